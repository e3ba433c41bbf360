import BusDomain
import BusJSON
import Crypto

/// Who the player is, from a verified JWT.
package struct PlayerIdentity: Sendable, Equatable {
    /// The token's `sub`: the player every activation is attributed to.
    package let subject: String

    package init(subject: String) { self.subject = subject }
}

/// Verifies player JWTs against the keys and claims of the auth file's `players` section.
///
/// Synchronous and free of I/O: keys were parsed at startup, so a call costs one signature
/// check and two small JSON parses, and runs on the calling (loop) thread.
package struct PlayerAuthenticator: Sendable {
    /// The `players` section, keys loaded.
    package let policy: PlayerPolicy
    /// The HS256 key, built once from the configured secret.
    private let hmacKey: VerificationKey?

    package init(policy: PlayerPolicy) {
        self.policy = policy
        self.hmacKey = policy.hs256Secret.map(VerificationKey.hmac)
    }

    /// Checks the request's `Authorization` header value at Unix time `now` (seconds).
    package func verify(authorization: String?, now: Double) -> Result<PlayerIdentity, AuthRefusal> {
        switch BearerCredentials(authorization: authorization) {
        case .absent: .failure(.unauthorized(.noCredentials))
        case .malformed: .failure(.unauthorized(.invalidToken(.malformed)))
        case .token(let token): verify(token: token, now: now).mapError { .unauthorized(.invalidToken($0)) }
        }
    }

    /// Checks one compact JWS at Unix time `now` (seconds): signature first, then claims.
    package func verify(token: String, now: Double) -> Result<PlayerIdentity, InvalidToken> {
        let jws: CompactJWS
        do {
            jws = try CompactJWS(token)
        } catch .unsupportedAlgorithm {
            return .failure(.unsupportedAlgorithm)
        } catch {
            return .failure(.malformed)
        }
        let key: VerificationKey
        switch jws.algorithm {
        case .hs256:
            guard let hmacKey else { return .failure(.unsupportedAlgorithm) }
            key = hmacKey
        case .rs256, .es256, .edDSA:
            guard let kid = jws.keyID, let found = policy.keys[kid] else { return .failure(.unknownKey) }
            key = found
        }
        guard key.algorithm == jws.algorithm else { return .failure(.algorithmMismatch) }
        guard key.verifies(jws.signature, over: jws.signingInput, algorithm: jws.algorithm) else {
            return .failure(.badSignature)
        }
        return claims(jws.payload, now: now)
    }

    private func claims(_ claims: JSONValue, now: Double) -> Result<PlayerIdentity, InvalidToken> {
        let leeway = Double(policy.leewaySeconds)
        guard case .number(let exp)? = claims["exp"], exp.double.isFinite else { return .failure(.missingExpiry) }
        guard now < exp.double + leeway else { return .failure(.expired) }
        switch claims["nbf"] {
        case nil: break
        case .number(let nbf)? where nbf.double.isFinite:
            guard nbf.double <= now + leeway else { return .failure(.notYetValid) }
        default: return .failure(.malformed)
        }
        switch claims["iat"] {
        case nil: break
        case .number(let iat)? where iat.double.isFinite:
            guard iat.double <= now + leeway else { return .failure(.issuedInFuture) }
        default: return .failure(.malformed)
        }
        guard case .string(let issuer)? = claims["iss"], issuer == policy.issuer else {
            return .failure(.wrongIssuer)
        }
        switch claims["aud"] {
        case .string(let audience)? where audience == policy.audience: break
        case .array(let audiences)? where audiences.contains(.string(policy.audience)): break
        default: return .failure(.wrongAudience)
        }
        guard case .string(let subject)? = claims["sub"], !subject.isEmpty else { return .failure(.missingSubject) }
        return .success(PlayerIdentity(subject: subject))
    }

    /// The contract's rule for an activation body: its `player_id`, when present, must be the
    /// token's subject.
    package static func checkBody(playerID: String?, against identity: PlayerIdentity) -> Result<Void, AuthRefusal> {
        guard let playerID, playerID != identity.subject else { return .success(()) }
        return .failure(.playerMismatch)
    }
}
