import BusAuth
import BusDomain
import BusTesting
import Crypto
import Foundation
import Testing

/// The gateway with a `spawn` section (contract, "Authentication and authorization"): client
/// tokens, regions per client, the `source` field, and nothing written on a refusal.
@Suite("Gateway auth: client tokens and regions, on real Redis")
struct GatewayAuthTests {
    static let emeraldToken = "tok-emerald-" + UUID().uuidString
    static let rotatedToken = "tok-emerald-next-" + UUID().uuidString
    static let allToken = "tok-all-" + UUID().uuidString

    static func hash(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// Two regions; `gs-emerald` (two tokens, as during a rotation) may use emerald only,
    /// `gs-all` every region.
    static func harness(_ redis: RedisServerProcess) throws -> GatewayHarness {
        try GatewayHarness(
            regions: [
                GatewayHarness.region("emerald", redis: redis, biomes: [53]),
                GatewayHarness.region("ruby", redis: redis, biomes: [7]),
            ]
        ) { configuration in
            configuration.spawnAuth = SpawnPolicy(clients: [
                SpawnClient(
                    name: "gs-emerald", tokenHashes: [hash(emeraldToken), hash(rotatedToken)],
                    regions: .only(["emerald"])),
                SpawnClient(name: "gs-all", tokenHashes: [hash(allToken)], regions: .all),
            ])
        }
    }

    static func spawn(
        _ port: Int, _ json: String, token: String?, path: String = "/v1/spawn", extra: [String: String] = [:]
    )
        throws -> PlainHTTPResponse
    {
        var headers = ["Content-Type": "application/json"].merging(extra) { $1 }
        if let token { headers["Authorization"] = "Bearer \(token)" }
        return try PlainHTTPClient.request(
            port: port, method: "POST", path: path, headers: headers, body: Array(json.utf8))
    }

    @Test("401 with the Bearer challenge for no, malformed or unknown credentials; nothing written")
    func unauthorized() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try Self.harness(redis)
        let body = #"{"biome_id": 53, "type": "chest", "coords": [1, 2]}"#
        for header in [nil, "Basic Zm9vOmJhcg==", "Bearer", "Bearer wrong-token", "bearer " + Self.emeraldToken + "x"] {
            var extra: [String: String] = [:]
            if let header { extra["Authorization"] = header }
            let response = try Self.spawn(harness.port, body, token: nil, extra: extra)
            #expect(response.status == 401, "\(header ?? "none"): \(response.text)")
            #expect(response.errorCode == "unauthorized")
            #expect(response.headers["www-authenticate"] == #"Bearer realm="biomebus""#)
            #expect(!response.text.contains(Self.emeraldToken))
        }
        let batch = try Self.spawn(harness.port, #"{"events": [\#(body)]}"#, token: "nope", path: "/v1/spawn/batch")
        #expect(batch.status == 401)
        #expect(try redis.cli("EXISTS", "EVSTREAM:53") == "0")
        let metrics = try PlainHTTPClient.request(port: harness.port, method: "GET", path: "/metrics").text
        #expect(metrics.contains(#"biomebus_auth_refusals_total{service="gateway",reason="no_credentials"} 2"#))
        #expect(metrics.contains(#"biomebus_auth_refusals_total{service="gateway",reason="unknown_client"} 4"#))
    }

    @Test(
        "a known token appends with source <client>; either token of a rotation works; a foreign region is 403, nothing written"
    )
    func regionsAndSource() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try Self.harness(redis)
        let accepted = try Self.spawn(
            harness.port, #"{"biome_id": 53, "type": "chest", "coords": [1, 2], "chest_id": "c-1"}"#,
            token: Self.emeraldToken)
        #expect(accepted.status == 202, "\(accepted.text)")
        let rotated = try Self.spawn(
            harness.port, #"{"biome_id": 53, "type": "chest", "coords": [1, 2]}"#, token: Self.rotatedToken)
        #expect(rotated.status == 202)
        let entries = try redis.entries("EVSTREAM:53")
        #expect(entries.map { $0.fields["source"] } == ["gs-emerald", "gs-emerald"])

        let forbidden = try Self.spawn(
            harness.port, #"{"biome_id": 7, "type": "chest", "coords": [1, 2]}"#, token: Self.emeraldToken)
        #expect(forbidden.status == 403)
        #expect(forbidden.errorCode == "region_forbidden")
        #expect(try redis.cli("EXISTS", "EVSTREAM:7") == "0")

        let other = try Self.spawn(
            harness.port, #"{"biome_id": 7, "type": "chest", "coords": [1, 2]}"#, token: Self.allToken)
        #expect(other.status == 202)
        #expect(try redis.entries("EVSTREAM:7").map { $0.fields["source"] } == ["gs-all"])
    }

    @Test("a batch refuses per event the regions its client may not use, and appends the rest")
    func batchPerEvent() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try Self.harness(redis)
        let response = try Self.spawn(
            harness.port,
            #"{"events": [{"biome_id": 53, "type": "chest", "coords": [1, 2]}, {"biome_id": 7, "type": "chest", "coords": [1, 2]}]}"#,
            token: Self.emeraldToken, path: "/v1/spawn/batch")
        #expect(response.status == 200, "\(response.text)")
        let results = try #require(response.json["results"] as? [[String: Any]])
        #expect(results.map { $0["status"] as? Int } == [202, 403])
        #expect((results[1]["error"] as? [String: Any])?["code"] as? String == "region_forbidden")
        #expect(try redis.entries("EVSTREAM:53").map { $0.fields["source"] } == ["gs-emerald"])
        #expect(try redis.cli("EXISTS", "EVSTREAM:7") == "0")
    }

    @Test("idempotency keys are scoped per client: one key, two clients, two entries")
    func idempotencyPerClient() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try Self.harness(redis)
        let body = #"{"biome_id": 53, "type": "chest", "coords": [1, 2]}"#
        let first = try Self.spawn(harness.port, body, token: Self.emeraldToken, extra: ["Idempotency-Key": "k-1"])
        let replay = try Self.spawn(harness.port, body, token: Self.rotatedToken, extra: ["Idempotency-Key": "k-1"])
        let second = try Self.spawn(harness.port, body, token: Self.allToken, extra: ["Idempotency-Key": "k-1"])
        #expect([first.status, replay.status, second.status] == [Int](repeating: 202, count: 3))
        #expect(replay.headers["idempotent-replayed"] == "true")
        #expect(second.headers["idempotent-replayed"] == nil)
        #expect(try redis.entries("EVSTREAM:53").map { $0.fields["source"] } == ["gs-emerald", "gs-all"])
    }

    @Test("health, readiness, metrics, regions and the OpenAPI document stay open")
    func openRoutes() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try Self.harness(redis)
        for path in ["/healthz", "/readyz", "/metrics", "/v1/regions", "/openapi.json"] {
            #expect(try PlainHTTPClient.request(port: harness.port, method: "GET", path: path).status == 200, "\(path)")
        }
    }
}
