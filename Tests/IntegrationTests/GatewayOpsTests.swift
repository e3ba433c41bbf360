import BusTesting
import Foundation
import Testing

@Suite("Gateway ops: /v1/regions, /metrics, memory guard", .serialized)
struct GatewayOpsTests {
    /// The value of the first sample of `name` whose labels include every `labels` pair.
    private func sample(_ text: String, _ name: String, _ labels: [String: String]) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            let parts = line.split(separator: " ")
            guard parts.count == 2 else { continue }
            let matches = labels.allSatisfy { line.contains("\($0.key)=\"\($0.value)\"") }
            if matches { return Double(parts[1]) }
        }
        return nil
    }

    @Test("after N spawns the same depth shows in /v1/regions and in /metrics")
    func depthEverywhere() async throws {
        let redis = try await RedisServerProcess.temporary()
        let harness = try GatewayHarness(regions: [GatewayHarness.region("north", redis: redis, biomes: [53, 7])]) {
            $0.sampleInterval = .milliseconds(100)
        }
        for index in 0..<17 {
            let response = try PlainHTTPClient.spawn(
                port: harness.port, #"{"biome_id": 53, "type": "chest", "coords": [\#(index), 2]}"#)
            #expect(response.status == 202)
        }
        let regions = try PlainHTTPClient.request(port: harness.port, method: "GET", path: "/v1/regions")
        #expect(regions.status == 200)
        let region = try #require((regions.json["regions"] as? [[String: Any]])?.first)
        let biomes = try #require(region["biomes"] as? [[String: Any]])
        #expect(biomes.first { $0["biome_id"] as? Int == 53 }?["length"] as? Int == 17)
        #expect(biomes.first { $0["biome_id"] as? Int == 7 }?["length"] as? Int == 0)

        var metricsText = ""
        let published = await Polling.waitUntilAsync(timeout: .seconds(5)) {
            metricsText = (try? PlainHTTPClient.request(port: harness.port, method: "GET", path: "/metrics").text) ?? ""
            return sample(metricsText, "biomebus_stream_length", ["biome": "53"]) == 17
        }
        #expect(published, "\(metricsText)")
        #expect(sample(metricsText, "biomebus_spawn_requests_total", ["biome": "53", "status": "202"]) == 17)
        #expect(sample(metricsText, "biomebus_stream_maxlen", ["biome": "53"]) == 5000)
        #expect(sample(metricsText, "biomebus_region_up", ["region": "north"]) == 1)
        #expect(sample(metricsText, "biomebus_spawn_duration_seconds_count", [:]) == 17)
        #expect(metricsText.contains("# TYPE biomebus_spawn_duration_seconds histogram"))
    }

    @Test("/v1/regions marks a group whose lag grew over the last three samples")
    func lagGrowingIsMarked() async throws {
        let redis = try await RedisServerProcess.temporary()
        // Samples slower than the test can post, so each sample sees one more entry.
        let harness = try GatewayHarness(regions: [GatewayHarness.region("north", redis: redis, biomes: [4])]) {
            $0.sampleInterval = .milliseconds(400)
        }
        try redis.cli("XGROUP", "CREATE", "EVSTREAM:4", "treasure", "0", "MKSTREAM")
        for expected in 1...4 {
            #expect(
                try PlainHTTPClient.spawn(port: harness.port, #"{"biome_id": 4, "type": "chest", "coords": [1, 2]}"#)
                    .status == 202)
            // Wait until the sampler has seen this lag, so consecutive samples differ.
            let seen = await Polling.waitUntilAsync(timeout: .seconds(5)) {
                let text =
                    (try? PlainHTTPClient.request(port: harness.port, method: "GET", path: "/metrics").text) ?? ""
                return text.contains(#"biomebus_group_lag{region="north",biome="4",group="treasure"} \#(expected).0"#)
            }
            #expect(seen)
        }
        let regions = try PlainHTTPClient.request(port: harness.port, method: "GET", path: "/v1/regions").json
        let breaches = regions["breaches"] as? [String] ?? []
        #expect(breaches.contains("biome 4 group treasure lag keeps growing"), "\(breaches)")
        #expect(regions["healthy"] as? Bool == false)
    }

    @Test("the memory guard sheds one region's spawns and recovers, while another region keeps getting 202")
    func memoryGuard() async throws {
        let full = try await RedisServerProcess.temporary()
        let fine = try await RedisServerProcess.temporary()
        let harness = try GatewayHarness(regions: [
            GatewayHarness.region("full", redis: full, biomes: [1]),
            GatewayHarness.region("fine", redis: fine, biomes: [2]),
        ]) {
            $0.sampleInterval = .milliseconds(100)
        }
        let port = harness.port
        // A maxmemory just above what Redis uses puts it above the 0.9 high-water mark
        // without Redis refusing writes itself.
        let used = try #require(
            Int(
                try full.cli("INFO", "memory").split(separator: "\r\n").first { $0.hasPrefix("used_memory:") }?
                    .dropFirst(12) ?? ""))
        try full.cli("CONFIG", "SET", "maxmemory", String(used + used / 20))
        // Wait for the guard itself: a 503 alone could come from Redis refusing the write, once its
        // memory (more clients, buffers) has grown past that maxmemory before the next sample.
        let shed = await Polling.waitUntilAsync(timeout: .seconds(5)) {
            let regions = try? PlainHTTPClient.request(port: port, method: "GET", path: "/v1/regions").json
            return (regions?["regions"] as? [[String: Any]])?.first?["state"] as? String == "shedding"
        }
        #expect(shed)
        let refused = try PlainHTTPClient.spawn(port: port, #"{"biome_id": 1, "type": "chest", "coords": [1, 2]}"#)
        #expect(refused.status == 503)
        #expect(refused.headers["retry-after"] != nil)
        #expect(
            try PlainHTTPClient.spawn(port: port, #"{"biome_id": 2, "type": "chest", "coords": [1, 2]}"#).status == 202)
        let regions = try PlainHTTPClient.request(port: port, method: "GET", path: "/v1/regions").json
        let states = (regions["regions"] as? [[String: Any]])?.map { $0["state"] as? String }
        #expect(states == ["shedding", "up"])

        try full.cli("CONFIG", "SET", "maxmemory", "0")
        let recovered = await Polling.waitUntilAsync(timeout: .seconds(5)) {
            (try? PlainHTTPClient.spawn(port: port, #"{"biome_id": 1, "type": "chest", "coords": [1, 2]}"#))?.status
                == 202
        }
        #expect(recovered)
    }
}
