import BusAuth
import Testing

@Suite("Refusals: status, code, headers, metric label")
struct AuthRefusalTests {
    @Test("each refusal maps to the contract's status, code and headers")
    func mapping() {
        let table: [(AuthRefusal, Int, String, [String])] = [
            (.unauthorized(.noCredentials), 401, "unauthorized", [#"WWW-Authenticate: Bearer realm="biomebus""#]),
            (.unauthorized(.unknownClient), 401, "unauthorized", [#"WWW-Authenticate: Bearer realm="biomebus""#]),
            (
                .unauthorized(.invalidToken(.expired)), 401, "unauthorized",
                [#"WWW-Authenticate: Bearer realm="biomebus", error="invalid_token""#]
            ),
            (.regionForbidden(client: "gs", region: "r"), 403, "region_forbidden", []),
            (.playerMismatch, 403, "player_mismatch", []),
            (.rateLimited(retryAfterSeconds: 3), 429, "rate_limited", ["Retry-After: 3"]),
            (.rateLimited(retryAfterSeconds: 0), 429, "rate_limited", ["Retry-After: 1"]),
            (.limiterUnavailable(retryAfterSeconds: 1), 503, "limiter_unavailable", ["Retry-After: 1"]),
        ]
        for (refusal, status, code, headers) in table {
            #expect(refusal.status == status && refusal.code == code, "\(refusal)")
            #expect(refusal.headers.map { "\($0.name): \($0.value)" } == headers, "\(refusal)")
        }
    }

    @Test("no refusal text or label carries the token; metric labels are a bounded set")
    func noTokenInRefusals() {
        let authenticator = PlayerAuthenticator(policy: try! TestKeys.policy())
        let spawn = SpawnAuthenticator(policy: SpawnPolicy(clients: []))
        var labels: Set<String> = []
        for token in [
            TestKeys.token(alg: "EdDSA", kid: "ed-1", claims: TestKeys.claims(["exp": "1"])),
            TestKeys.token(alg: "RS256", kid: "nope"), "secret-token-value", TestKeys.token(alg: "none", kid: nil),
        ] {
            for refusal in [
                authenticator.verify(authorization: "Bearer \(token)", now: TestKeys.now).refusal,
                spawn.admit(authorization: "Bearer \(token)").refusal,
            ] {
                guard let refusal else { continue }
                let text =
                    [refusal.message, refusal.metricReason, "\(refusal)"]
                    + refusal.headers.map(\.value)
                #expect(!text.contains { $0.contains(token) || $0.contains(token.prefix(16)) })
                labels.insert(refusal.metricReason)
            }
        }
        let allowed = Set(InvalidToken.allCases.map(\.rawValue)).union([
            "no_credentials", "unknown_client", "region_forbidden", "player_mismatch", "rate_limited",
            "limiter_unavailable",
        ])
        #expect(labels.isSubset(of: allowed) && !labels.isEmpty)
    }
}
