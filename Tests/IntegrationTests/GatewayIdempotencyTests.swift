import BusDomain
import BusTesting
import Foundation
import Testing

/// `Idempotency-Key` on `POST /v1/spawn`, through the real gateway and Redis.
@Suite("Gateway: idempotent spawns")
struct GatewayIdempotencyTests {
    private static func spawn(
        _ port: Int, key: String?, biome: Int = 1, coords: String = "[1, 2]", chestID: String? = nil
    ) throws -> PlainHTTPResponse {
        var headers = ["Content-Type": "application/json"]
        if let key { headers["Idempotency-Key"] = key }
        let chest = chestID.map { #", "chest_id": "\#($0)""# } ?? ""
        let body = #"{"biome_id": \#(biome), "type": "chest", "coords": \#(coords)\#(chest)}"#
        return try PlainHTTPClient.request(
            port: port, method: "POST", path: "/v1/spawn", headers: headers, body: Array(body.utf8))
    }

    private static func harness(redis: RedisServerProcess, ttl: Int = 86400) throws -> GatewayHarness {
        var region = GatewayHarness.region("north", redis: redis, biomes: [1, 2])
        region.stream.idempotencyTTLSeconds = ttl
        return try GatewayHarness(regions: [region])
    }

    @Test("first processed; a repeat replays status and body with Idempotent-Replayed and writes nothing")
    func replay() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try Self.harness(redis: redis)
        let first = try Self.spawn(harness.port, key: "order-1")
        #expect(first.status == 202)
        #expect(first.headers["idempotent-replayed"] == nil)
        let chestID = try #require(first.json["chest_id"] as? String, "a generated chest id")

        // Same spawn, spelled differently: still the same body.
        let again = try Self.spawn(harness.port, key: "order-1", coords: "[1.0, 2.00]")
        #expect(again.status == 202)
        #expect(again.headers["idempotent-replayed"] == "true")
        #expect(again.body == first.body, "the original body, with the original generated chest id \(chestID)")
        #expect(try redis.streamLength("EVSTREAM:1") == 1)
        #expect(try redis.entries("EVSTREAM:1").first?.fields["chest_id"] == chestID)
    }

    @Test("the same key with another body is 422 idempotency_key_reused and writes nothing")
    func reused() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try Self.harness(redis: redis)
        #expect(try Self.spawn(harness.port, key: "k", chestID: "c-1").status == 202)
        let other = try Self.spawn(harness.port, key: "k", coords: "[3, 4]", chestID: "c-1")
        #expect(other.status == 422)
        #expect(other.errorCode == "idempotency_key_reused")
        #expect(try Self.spawn(harness.port, key: "k", chestID: "c-2").status == 422)
        #expect(try redis.streamLength("EVSTREAM:1") == 1)
    }

    @Test("keys are scoped per biome; spawns without a key are never deduplicated")
    func scopedPerBiome() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try Self.harness(redis: redis)
        #expect(try Self.spawn(harness.port, key: "k", biome: 1).status == 202)
        let otherBiome = try Self.spawn(harness.port, key: "k", biome: 2)
        #expect(otherBiome.status == 202)
        #expect(otherBiome.headers["idempotent-replayed"] == nil)
        for _ in 0..<2 { #expect(try Self.spawn(harness.port, key: nil, chestID: "same").status == 202) }
        #expect(try redis.streamLength("EVSTREAM:1") == 3)
        #expect(try redis.streamLength("EVSTREAM:2") == 1)
    }

    @Test("a key outside 1 … 255 printable ASCII is 400 invalid_field naming the header, and nothing is written")
    func invalidKeys() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try Self.harness(redis: redis)
        for key in [String(repeating: "k", count: 256), "caf\u{E9}"] {
            let response = try Self.spawn(harness.port, key: key)
            #expect(response.status == 400)
            #expect(response.errorCode == "invalid_field")
            #expect(response.errorMessage?.contains("Idempotency-Key") == true)
        }
        #expect(try Self.spawn(harness.port, key: String(repeating: "k", count: 255)).status == 202)
        #expect(try redis.streamLength("EVSTREAM:1") == 1)
    }

    @Test("records live stream.idempotency_ttl_s; after it the key is new again")
    func ttl() async throws {
        let redis = try await RedisServerProcess.temporary()
        let harness = try Self.harness(redis: redis, ttl: 1)
        #expect(try Self.spawn(harness.port, key: "short").status == 202)
        let ttl = Int(try redis.cli("PTTL", "EVIDEM:1:_:short")) ?? -2
        #expect((1...1000).contains(ttl), "PTTL \(ttl)")
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(5)) { (try? redis.cli("EXISTS", "EVIDEM:1:_:short")) == "0" }
        )
        let later = try Self.spawn(harness.port, key: "short")
        #expect(later.status == 202 && later.headers["idempotent-replayed"] == nil)
        #expect(try redis.streamLength("EVSTREAM:1") == 2)
    }

    @Test("50 concurrent requests with one key: exactly one entry, every answer names it")
    func concurrent() async throws {
        let redis = try await RedisServerProcess.temporary()
        let harness = try Self.harness(redis: redis)
        let port = harness.port
        let responses = await Concurrently.results(50, width: 50) { _ in try Self.spawn(port, key: "race") }
        let answers = try responses.map { try $0.get() }
        #expect(answers.allSatisfy { $0.status == 202 })
        #expect(Set(answers.map(\.body)).count == 1, "one entry id and chest id for all")
        #expect(answers.filter { $0.headers["idempotent-replayed"] == nil }.count == 1)
        #expect(try redis.streamLength("EVSTREAM:1") == 1)
    }

    @Test("many concurrent keyed spawns, distinct and shared keys: one entry per key, the others replay it")
    func concurrentManyKeys() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try Self.harness(redis: redis)
        let port = harness.port
        // 40 keys of their own, and 4 keys sent 6 times each, across two biomes, interleaved.
        let keys = (0..<40).map { "own-\($0)" } + (0..<24).map { "shared-\($0 % 4)" }
        let order = keys.indices.map { ($0 * 37) % keys.count }
        let responses = Concurrently.results(keys.count, width: 32) { slot in
            let key = keys[order[slot]]
            return try Self.spawn(port, key: key, biome: key.hasSuffix("1") || key.hasSuffix("3") ? 2 : 1)
        }
        let answers = try responses.map { try $0.get() }
        #expect(answers.allSatisfy { $0.status == 202 })
        var byKey: [String: [PlainHTTPResponse]] = [:]
        for (slot, answer) in answers.enumerated() { byKey[keys[order[slot]], default: []].append(answer) }
        #expect(byKey.count == 44)
        for (key, answers) in byKey {
            #expect(answers.filter { $0.headers["idempotent-replayed"] == nil }.count == 1, "\(key): one append")
            #expect(Set(answers.map { $0.json["id"] as? String }).count == 1, "\(key): every answer names it")
        }
        let entries = byKey.values.compactMap { answers in
            answers.first.map { "\($0.json["stream"] as? String ?? "") \($0.json["id"] as? String ?? "")" }
        }
        #expect(Set(entries).count == 44, "one entry per key")
        #expect(try redis.streamLength("EVSTREAM:1") + redis.streamLength("EVSTREAM:2") == 44)
    }

    @Test("/v1/regions counts the region's live records and bytes")
    func counted() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try Self.harness(redis: redis)
        for key in ["a", "b", "c"] { #expect(try Self.spawn(harness.port, key: key).status == 202) }
        #expect(try Self.spawn(harness.port, key: "a", biome: 2).status == 202)
        let regions = try PlainHTTPClient.request(port: harness.port, method: "GET", path: "/v1/regions").json
        let region = try #require((regions["regions"] as? [[String: Any]])?.first)
        #expect(region["idempotency_keys"] as? Int == 4)
        #expect((region["idempotency_bytes"] as? Int ?? 0) > 0)
        let biomes = (region["biomes"] as? [[String: Any]])?.map { $0["idempotency_keys"] as? Int }
        #expect(biomes == [3, 1])
    }
}
