import Foundation

/// Why a request was not let through, with the contract's status, error code and headers in
/// one place: the service chassis renders every refusal from here, never per handler.
package enum AuthRefusal: Error, Sendable, Equatable {
    /// No, malformed or unknown credentials: `401 unauthorized`.
    case unauthorized(UnauthorizedReason)
    /// A spawn client posting to a region it is not allowed: `403 region_forbidden`.
    case regionForbidden(client: String, region: String)
    /// A body `player_id` other than the token's `sub`: `403 player_mismatch`.
    case playerMismatch
    /// The player's activation bucket is empty: `429 rate_limited`, `Retry-After` seconds (≥ 1).
    case rateLimited(retryAfterSeconds: Int)
    /// The limiter's Redis did not answer: `503 limiter_unavailable` (never a silent pass).
    case limiterUnavailable(retryAfterSeconds: Int)

    /// The HTTP status.
    package var status: Int {
        switch self {
        case .unauthorized: 401
        case .regionForbidden, .playerMismatch: 403
        case .rateLimited: 429
        case .limiterUnavailable: 503
        }
    }

    /// The contract's error code (the `error` member of the JSON body).
    package var code: String {
        switch self {
        case .unauthorized: "unauthorized"
        case .regionForbidden: "region_forbidden"
        case .playerMismatch: "player_mismatch"
        case .rateLimited: "rate_limited"
        case .limiterUnavailable: "limiter_unavailable"
        }
    }

    /// A message for the body and the log; never contains a token.
    package var message: String {
        switch self {
        case .unauthorized(let reason): reason.message
        case .regionForbidden(let client, let region): "client \(client) may not spawn into region \(region)"
        case .playerMismatch: "player_id differs from the token's subject"
        case .rateLimited: "too many activations for this player; retry later"
        case .limiterUnavailable: "the rate limiter is unavailable"
        }
    }

    /// Headers the response must carry: the Bearer challenge for 401 (RFC 6750 §3),
    /// `Retry-After` for 429 and 503.
    package var headers: [(name: String, value: String)] {
        switch self {
        case .unauthorized(let reason): [("WWW-Authenticate", reason.challenge)]
        case .rateLimited(let seconds), .limiterUnavailable(let seconds): [("Retry-After", String(max(1, seconds)))]
        case .regionForbidden, .playerMismatch: []
        }
    }

    /// The `reason` label of `biomebus_auth_refusals_total{service,reason}`: a short,
    /// bounded set (never the client or player name).
    package var metricReason: String {
        switch self {
        case .unauthorized(let reason): reason.metricLabel
        case .regionForbidden: "region_forbidden"
        case .playerMismatch: "player_mismatch"
        case .rateLimited: "rate_limited"
        case .limiterUnavailable: "limiter_unavailable"
        }
    }
}

/// The cause of a `401`.
package enum UnauthorizedReason: Sendable, Equatable {
    /// No bearer credentials at all: the challenge carries no error code (RFC 6750 §3).
    case noCredentials
    /// A game-server token that is malformed or matches no client. The gateway's challenge
    /// carries no error code (contract: `WWW-Authenticate: Bearer realm="biomebus"`).
    case unknownClient
    /// A player JWT that failed a check; the challenge says `error="invalid_token"`.
    case invalidToken(InvalidToken)

    /// The `WWW-Authenticate` value.
    package var challenge: String {
        switch self {
        case .noCredentials, .unknownClient: #"Bearer realm="biomebus""#
        case .invalidToken: #"Bearer realm="biomebus", error="invalid_token""#
        }
    }

    var message: String {
        switch self {
        case .noCredentials: "bearer credentials required"
        case .unknownClient: "unknown or malformed client token"
        case .invalidToken(let why): "invalid token: \(why.rawValue.replacingOccurrences(of: "_", with: " "))"
        }
    }

    var metricLabel: String {
        switch self {
        case .noCredentials: "no_credentials"
        case .unknownClient: "unknown_client"
        case .invalidToken(let why): why.rawValue
        }
    }
}

/// Why a player JWT was refused. The raw values are metric labels and log words; the token
/// itself is never logged.
package enum InvalidToken: String, Error, Sendable, Equatable, CaseIterable {
    case malformed
    case unsupportedAlgorithm = "unsupported_algorithm"
    case unknownKey = "unknown_key"
    case algorithmMismatch = "algorithm_mismatch"
    case badSignature = "bad_signature"
    case missingExpiry = "missing_exp"
    case expired
    case notYetValid = "not_yet_valid"
    case issuedInFuture = "issued_in_future"
    case wrongIssuer = "wrong_issuer"
    case wrongAudience = "wrong_audience"
    case missingSubject = "missing_sub"
}
