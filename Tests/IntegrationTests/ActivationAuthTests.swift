import BusAuth
import BusRegions
import BusTesting
import Crypto
import Foundation
import Testing

/// Player JWTs minted here, with keys made for the test (contract, "Authentication").
enum PlayerTokens {
    static let ed25519 = Curve25519.Signing.PrivateKey()
    static let secret = Array("an HS256 secret of at least thirty-two bytes".utf8)
    static let issuer = "https://auth.example.com"

    static var jwks: String {
        #"{"keys": [{"kty": "OKP", "kid": "ed-1", "crv": "Ed25519", "alg": "EdDSA", "x": "\#(Base64URL.encode(ed25519.publicKey.rawRepresentation))"}]}"#
    }

    static func policy(limit: BucketLimit? = nil) throws -> PlayerPolicy {
        PlayerPolicy(
            issuer: issuer, audience: "biomebus", keys: try JWKSet(document: Array(jwks.utf8)).keys,
            hs256Secret: SymmetricKey(data: secret), leewaySeconds: 5, activationLimit: limit)
    }

    /// Claims valid now for `sub`; `changes` replace members (JSON text) or remove them (nil).
    static func claims(sub: String = "p-1", _ changes: [String: String?] = [:]) -> String {
        let now = Int(Date().timeIntervalSince1970)
        var members: [String: String] = [
            "iss": "\"\(issuer)\"", "aud": #"["x","biomebus"]"#, "sub": "\"\(sub)\"", "exp": String(now + 600),
            "iat": String(now - 1),
        ]
        for (key, value) in changes { members[key] = value }
        return "{" + members.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
    }

    /// A compact JWS of `header` and `payload`, signed with Ed25519, HMAC (`hmacKey`), or not at all.
    static func token(header: String = #"{"alg":"EdDSA","kid":"ed-1"}"#, payload: String, hmacKey: [UInt8]? = nil)
        -> String
    {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        let signature: [UInt8]
        if let hmacKey {
            signature = Array(
                HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: hmacKey)))
        } else if header.contains(#""alg":"none""#) {
            signature = []
        } else {
            signature = Array(try! ed25519.signature(for: Array(input.utf8)))
        }
        return input + "." + Base64URL.encode(signature)
    }

    static func valid(sub: String = "p-1") -> String { token(payload: claims(sub: sub)) }
}

@Suite("Activation auth: player JWTs, limits and receipts, on real Postgres and Redis")
struct ActivationAuthTests {
    static func request(
        _ harness: ActivationHarness, _ path: String, method: String = "POST", token: String?,
        ifMatch: String? = #""1""#, body: String? = nil
    ) throws -> PlainHTTPResponse {
        var headers: [String: String] = [:]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        if let ifMatch, method == "POST" { headers["If-Match"] = ifMatch }
        if body != nil { headers["Content-Type"] = "application/json" }
        return try PlainHTTPClient.request(
            port: harness.port, method: method, path: path, headers: headers, body: body.map { Array($0.utf8) })
    }

    @Test("401 for every bad token (none, confusion, expired, nbf, iss, aud, kid, tampered); the row is untouched")
    func refusedTokens() throws {
        let database = try TestDatabase(on: try PostgresCluster.shared())
        try database.insertChest(id: "a")
        let harness = try ActivationHarness(postgresURL: database.url) { $0.players = try! PlayerTokens.policy() }
        let now = Int(Date().timeIntervalSince1970)
        let good = PlayerTokens.valid()
        var tampered = Array(good.utf8)
        tampered[tampered.count / 2 - 3] =
            tampered[tampered.count / 2 - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let cases: [(String, String)] = [
            ("alg none", PlayerTokens.token(header: #"{"alg":"none","kid":"ed-1"}"#, payload: PlayerTokens.claims())),
            // Algorithm confusion: HS256 "signed" with the Ed25519 public key as the secret.
            (
                "confusion",
                PlayerTokens.token(
                    header: #"{"alg":"HS256","kid":"ed-1"}"#, payload: PlayerTokens.claims(),
                    hmacKey: Array(PlayerTokens.ed25519.publicKey.rawRepresentation))
            ),
            (
                "alg mismatch",
                PlayerTokens.token(header: #"{"alg":"RS256","kid":"ed-1"}"#, payload: PlayerTokens.claims())
            ),
            ("expired", PlayerTokens.token(payload: PlayerTokens.claims(["exp": String(now - 60)]))),
            ("no exp", PlayerTokens.token(payload: PlayerTokens.claims(["exp": nil]))),
            ("nbf future", PlayerTokens.token(payload: PlayerTokens.claims(["nbf": String(now + 120)]))),
            ("wrong iss", PlayerTokens.token(payload: PlayerTokens.claims(["iss": #""https://evil.example""#]))),
            ("wrong aud", PlayerTokens.token(payload: PlayerTokens.claims(["aud": #""other""#]))),
            ("no sub", PlayerTokens.token(payload: PlayerTokens.claims(["sub": nil]))),
            (
                "unknown kid",
                PlayerTokens.token(header: #"{"alg":"EdDSA","kid":"ed-9"}"#, payload: PlayerTokens.claims())
            ),
            ("tampered", String(decoding: tampered, as: UTF8.self)),
            ("garbage", "not.a.jwt"),
        ]
        for (name, token) in cases {
            let response = try Self.request(harness, "/v1/treasure/53/chests/a/activate", token: token)
            #expect(response.status == 401, "\(name): \(response.text)")
            #expect(response.errorCode == "unauthorized", "\(name)")
            #expect(
                response.headers["www-authenticate"] == #"Bearer realm="biomebus", error="invalid_token""#, "\(name)")
        }
        let missing = try Self.request(harness, "/v1/treasure/53/chests/a/activate", token: nil)
        #expect(missing.status == 401)
        #expect(missing.headers["www-authenticate"] == #"Bearer realm="biomebus""#)
        for path in ["/v1/treasure/53/chests/a", "/v1/treasure/53/chests"] {
            #expect(try Self.request(harness, path, method: "GET", token: nil).status == 401, "\(path)")
            #expect(try Self.request(harness, path, method: "GET", token: good).status == 200, "\(path)")
        }
        let alias = try Self.request(harness, "/treasure/53/activate", token: nil, body: #"{"chest_id": "a"}"#)
        #expect(alias.status == 401)
        #expect(try database.row(id: "a") == "spawned|1|")
        let metrics = try Self.request(harness, "/metrics", method: "GET", token: nil).text
        #expect(metrics.contains(#"biomebus_auth_refusals_total{service="activation",reason="expired"} 1"#))
        #expect(metrics.contains(#"biomebus_auth_refusals_total{service="activation",reason="unknown_key"} 1"#))
        #expect(!metrics.contains(good))
    }

    @Test("the player is sub: activated_by is sub, a different body player_id is 403 player_mismatch")
    func subjectIsThePlayer() throws {
        let database = try TestDatabase(on: try PostgresCluster.shared())
        for id in ["a", "b", "c"] { try database.insertChest(id: id) }
        let harness = try ActivationHarness(postgresURL: database.url) { $0.players = try! PlayerTokens.policy() }
        let token = PlayerTokens.valid(sub: "p-7")
        let mismatch = try Self.request(
            harness, "/v1/treasure/53/chests/a/activate", token: token, body: #"{"player_id": "p-8"}"#)
        #expect(mismatch.status == 403)
        #expect(mismatch.errorCode == "player_mismatch")
        #expect(try database.row(id: "a") == "spawned|1|")
        let same = try Self.request(
            harness, "/v1/treasure/53/chests/a/activate", token: token, body: #"{"player_id": "p-7"}"#)
        #expect(same.status == 200)
        let none = try Self.request(harness, "/v1/treasure/53/chests/b/activate", token: token)
        #expect(none.status == 200)
        #expect(none.json["activated_by"] as? String == "p-7")
        #expect(try database.row(id: "b") == "activated|2|p-7")
        let alias = try Self.request(harness, "/treasure/53/activate", token: token, body: #"{"chest_id": "c"}"#)
        #expect(alias.status == 200)
        #expect(try database.row(id: "c") == "activated|2|p-7")
        // An HS256 token from the shared secret is a player too.
        let hs = PlayerTokens.token(
            header: #"{"alg":"HS256"}"#, payload: PlayerTokens.claims(sub: "p-9"), hmacKey: PlayerTokens.secret)
        #expect(try Self.request(harness, "/v1/treasure/53/chests/a", method: "GET", token: hs).status == 200)
    }

    @Test("limits: the bucket empties into 429 with Retry-After before Postgres, reads are free, it refills")
    func rateLimited() async throws {
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        try database.insertChest(id: "kept")
        let redis = try await RedisServerProcess.temporary()
        let harness = try ActivationHarness(postgresURL: database.url) {
            $0.players = try! PlayerTokens.policy(limit: BucketLimit(perSecond: 4, burst: 2))
            $0.limiterRedis = RedisAddress(host: "127.0.0.1", port: redis.port)
        }
        let token = PlayerTokens.valid(sub: "p-limited")
        for _ in 0..<5 {
            #expect(try Self.request(harness, "/v1/treasure/53/chests/kept", method: "GET", token: token).status == 200)
        }
        // Any outcome takes a token: two missing chests (404) empty the bucket.
        for id in ["x1", "x2"] {
            #expect(try Self.request(harness, "/v1/treasure/53/chests/\(id)/activate", token: token).status == 404)
        }
        let limited = try Self.request(harness, "/v1/treasure/53/chests/kept/activate", token: token)
        #expect(limited.status == 429)
        #expect(limited.errorCode == "rate_limited")
        #expect(Int(limited.headers["retry-after"] ?? "") ?? 0 >= 1)
        #expect(try database.row(id: "kept") == "spawned|1|")
        // Another player has a bucket of their own.
        #expect(
            try Self.request(harness, "/v1/treasure/53/chests/x3/activate", token: PlayerTokens.valid(sub: "p-other"))
                .status == 404)
        let refilled = await Polling.waitUntilAsync(timeout: .seconds(5)) {
            (try? Self.request(harness, "/v1/treasure/53/chests/kept/activate", token: token))?.status == 200
        }
        #expect(refilled)
        #expect(try database.row(id: "kept") == "activated|2|p-limited")
        let metrics = try Self.request(harness, "/metrics", method: "GET", token: nil).text
        #expect(metrics.contains("biomebus_activation_rate_limited_total "))
    }

    @Test("limiter Redis down: 503 limiter_unavailable with Retry-After, never a pass")
    func limiterDown() throws {
        let database = try TestDatabase(on: try PostgresCluster.shared())
        try database.insertChest(id: "a")
        let harness = try ActivationHarness(postgresURL: database.url) {
            $0.players = try! PlayerTokens.policy(limit: BucketLimit(perSecond: 100, burst: 100))
            $0.limiterRedis = RedisAddress(host: "127.0.0.1", port: LoopbackPorts.freePort())
        }
        let response = try Self.request(harness, "/v1/treasure/53/chests/a/activate", token: PlayerTokens.valid())
        #expect(response.status == 503)
        #expect(response.errorCode == "limiter_unavailable")
        #expect(response.headers["retry-after"] != nil)
        #expect(try database.row(id: "a") == "spawned|1|")
    }

    @Test("receipts: a 200 activation carries an EdDSA JWS that verifies with the open JWKS")
    func receipts() throws {
        let database = try TestDatabase(on: try PostgresCluster.shared())
        try database.insertChest(id: "a")
        let harness = try ActivationHarness(postgresURL: database.url) {
            $0.players = try! PlayerTokens.policy()
            $0.receipts = ReceiptSigner(privateKey: Curve25519.Signing.PrivateKey(), keyID: "r1")
        }
        let won = try Self.request(harness, "/v1/treasure/53/chests/a/activate", token: PlayerTokens.valid(sub: "p-r"))
        #expect(won.status == 200)
        let receipt = try #require(won.json["receipt"] as? String)
        let jwks = try Self.request(harness, "/v1/receipts/jwks.json", method: "GET", token: nil)
        #expect(jwks.status == 200)
        let key = try #require((jwks.json["keys"] as? [[String: Any]])?.first)
        #expect(key["kid"] as? String == "r1")
        #expect(key["crv"] as? String == "Ed25519")
        let publicKey = try Curve25519.Signing.PublicKey(
            rawRepresentation: try #require(Base64URL.decode(key["x"] as! String)))
        let parts = receipt.split(separator: ".")
        try #require(parts.count == 3)
        let signature = try #require(Base64URL.decode(parts[2]))
        #expect(publicKey.isValidSignature(signature, for: Array("\(parts[0]).\(parts[1])".utf8)))
        let payload = try #require(Base64URL.decode(parts[1]))
        let claims = try #require(try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
        #expect(claims["sub"] as? String == "p-r")
        #expect(claims["iss"] as? String == "biomebus")
        #expect(claims["chest_id"] as? String == "a")
        #expect(claims["biome_id"] as? Int == 53)
        #expect(claims["version"] as? Int == 2)
        // A lost race carries no receipt.
        let lost = try Self.request(harness, "/v1/treasure/53/chests/a/activate", token: PlayerTokens.valid(sub: "p-r"))
        #expect(lost.status == 412)
        #expect(lost.json["receipt"] == nil)
    }
}
