import BusDomain
import BusTesting
import Foundation
import Testing

@Suite("Gateway: spawns land in their biome's stream")
struct GatewaySpawnTests {
    @Test("a spawn lands with the contract's fields and answers 202 after the XADD")
    func spawnLandsWithContractFields() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try GatewayHarness(regions: [GatewayHarness.region("emerald", redis: redis, biomes: [53])])
        let before = Int64(Date().timeIntervalSince1970 * 1000)

        let response = try PlainHTTPClient.spawn(
            port: harness.port, #"{"biome_id": 53, "type": "chest", "coords": [1.5, 2.0, 3.25], "chest_id": "c-9"}"#)
        let after = Int64(Date().timeIntervalSince1970 * 1000)

        #expect(response.status == 202)
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.json["biome_id"] as? Int == 53)
        #expect(response.json["stream"] as? String == "EVSTREAM:53")
        #expect(response.json["chest_id"] as? String == "c-9")
        let entries = try redis.entries("EVSTREAM:53")
        try #require(entries.count == 1)
        #expect(response.json["id"] as? String == entries[0].id)
        let fields = entries[0].fields
        #expect(fields["type"] == "chest")
        #expect(fields["coords"] == "[1.5,2,3.25]")
        #expect(fields["chest_id"] == "c-9")
        let ts = try #require(fields["ts"].flatMap { Int64($0) })
        #expect(ts >= before && ts <= after)
    }

    @Test("biomes 7, 10, 53 and 123456 land in their own decimal keys")
    func biomesLandInOwnKeys() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try GatewayHarness(
            regions: [GatewayHarness.region("emerald", redis: redis, biomes: [7, 10, 53, 123456, 0, 2_147_483_647])])
        for biome in [7, 10, 53, 123456, 0, 2_147_483_647] {
            let response = try PlainHTTPClient.spawn(
                port: harness.port, #"{"biome_id": \#(biome), "type": "chest", "coords": [1, 2]}"#)
            #expect(response.status == 202, "biome \(biome): \(response.text)")
            #expect(response.json["stream"] as? String == "EVSTREAM:\(biome)")
        }
        let keys = Set(try redis.cli("KEYS", "EVSTREAM:*").split(separator: "\n").map(String.init))
        #expect(
            keys == [
                "EVSTREAM:7", "EVSTREAM:10", "EVSTREAM:53", "EVSTREAM:123456", "EVSTREAM:0", "EVSTREAM:2147483647",
            ])
        for key in keys { #expect(try redis.streamLength(key) == 1) }
    }

    @Test("a spawn without chest_id gets a unique generated one")
    func generatedChestIDs() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try GatewayHarness(regions: [GatewayHarness.region("emerald", redis: redis, biomes: [1])])
        var ids: Set<String> = []
        for _ in 0..<20 {
            let response = try PlainHTTPClient.spawn(
                port: harness.port, #"{"biome_id": 1, "type": "chest", "coords": [1, 2]}"#)
            #expect(response.status == 202)
            let id = try #require(response.json["chest_id"] as? String)
            #expect(Identifiers.isValidChestID(id))
            ids.insert(id)
        }
        #expect(ids.count == 20)
        let stored = Set(try redis.entries("EVSTREAM:1").compactMap { $0.fields["chest_id"] })
        #expect(stored == ids)
    }

    @Test("MAXLEN ~ trimming holds the stream near its cap after thousands of spawns")
    func maxlenTrimming() async throws {
        let redis = try await RedisServerProcess.temporary()
        let harness = try GatewayHarness(regions: [
            GatewayHarness.region("emerald", redis: redis, biomes: [5], maxlen: 200)
        ])
        let port = harness.port
        let results = await Concurrently.results(3000, width: 16) { _ in
            try PlainHTTPClient.spawn(port: port, #"{"biome_id": 5, "type": "chest", "coords": [1, 2]}"#).status
        }
        #expect(results.allSatisfy { (try? $0.get()) == 202 })
        let length = try redis.streamLength("EVSTREAM:5")
        // `~` trims whole radix-tree nodes (100 entries by default), so the length stays within
        // one node of the cap, far below the 3,000 appended.
        #expect(length >= 200 && length <= 300, "XLEN \(length)")
        let added = Int(
            try redis.cli("XINFO", "STREAM", "EVSTREAM:5").components(separatedBy: "\n").drop { $0 != "entries-added" }
                .dropFirst().first ?? "")
        #expect(added == 3000)
    }

    @Test("3,000 concurrent spawns give 3,000 distinct entries, none lost")
    func concurrentSpawnsAllLand() async throws {
        let redis = try await RedisServerProcess.temporary()
        let harness = try GatewayHarness(
            regions: [GatewayHarness.region("emerald", redis: redis, biomes: [1, 2, 3], maxlen: 100_000)])
        let port = harness.port
        let results = await Concurrently.results(3000, width: 64) { index in
            let response = try PlainHTTPClient.spawn(
                port: port,
                #"{"biome_id": \#(index % 3 + 1), "type": "chest", "coords": [\#(index), 2], "chest_id": "c-\#(index)"}"#
            )
            // Entry ids are unique per stream, so pair them with the stream.
            return (
                response.status, "\(response.json["stream"] as? String ?? "") \(response.json["id"] as? String ?? "")"
            )
        }
        let answers = results.compactMap { try? $0.get() }
        #expect(answers.count == 3000)
        #expect(answers.allSatisfy { $0.0 == 202 })
        var stored: Set<String> = []
        for biome in 1...3 {
            for entry in try redis.entries("EVSTREAM:\(biome)") { stored.insert(entry.fields["chest_id"] ?? "") }
        }
        #expect(stored.count == 3000)
        #expect(stored == Set((0..<3000).map { "c-\($0)" }))
        #expect(Set(answers.map(\.1)).count == 3000)
    }
}
