import BusTesting
import Foundation
import Testing

/// One region's Redis trouble must never slow another region.
@Suite("Gateway: region isolation, outages and recovery", .serialized)
struct GatewayIsolationTests {
    private static func body(_ biome: Int) -> String {
        #"{"biome_id": \#(biome), "type": "chest", "coords": [1, 2]}"#
    }

    private func timed<T>(_ body: () throws -> T) rethrows -> (T, Duration) {
        let clock = ContinuousClock()
        let start = clock.now
        let value = try body()
        return (value, clock.now - start)
    }

    /// Region north (biome 1) and region south (biome 2), each on its own Redis.
    private func twoRegions() throws -> (north: RedisServerProcess, south: RedisServerProcess, harness: GatewayHarness)
    {
        let north = try RedisServerProcess.temporary()
        let south = try RedisServerProcess.temporary()
        let harness = try GatewayHarness(regions: [
            GatewayHarness.region("north", redis: north, biomes: [1]),
            GatewayHarness.region("south", redis: south, biomes: [2]),
        ])
        return (north, south, harness)
    }

    @Test("a killed region answers 503 quickly while the other keeps getting 202; it recovers by itself")
    func killedRegion() async throws {
        let (north, south, harness) = try twoRegions()
        let port = harness.port
        #expect(try PlainHTTPClient.spawn(port: port, Self.body(1)).status == 202)

        await north.kill()
        let (down, elapsed) = try timed {
            var response = try PlainHTTPClient.spawn(port: port, Self.body(1))
            // The first spawn after the kill may still see the old connection; within 2 s the
            // region must answer 503.
            while response.status == 202 { response = try PlainHTTPClient.spawn(port: port, Self.body(1)) }
            return response
        }
        #expect(down.status == 503)
        #expect(down.errorCode == "region_unavailable")
        #expect(down.headers["retry-after"] != nil)
        #expect(elapsed < .seconds(2), "503 after \(elapsed)")

        for _ in 0..<20 {
            let (healthy, took) = try timed { try PlainHTTPClient.spawn(port: port, Self.body(2)) }
            #expect(healthy.status == 202)
            #expect(took < .milliseconds(500), "healthy region took \(took)")
        }
        #expect(try south.streamLength("EVSTREAM:2") == 20)

        let readiness = try PlainHTTPClient.request(port: port, method: "GET", path: "/readyz")
        #expect(readiness.status == 503)
        let names = (readiness.json["regions"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names == ["north"])

        try await north.start()
        let recovered = await Polling.waitUntilAsync(timeout: .seconds(10)) {
            (try? PlainHTTPClient.spawn(port: port, Self.body(1)))?.status == 202
        }
        #expect(recovered, "spawns for the restarted region must succeed again without a gateway restart")
        #expect(
            await Polling.waitUntilAsync {
                (try? PlainHTTPClient.request(port: port, method: "GET", path: "/readyz"))?.status == 200
            })
    }

    @Test("a hung (SIGSTOPped) Redis gives 503 within about 1.5 s, not a hang, and recovers on SIGCONT")
    func hungRegion() async throws {
        let (north, south, harness) = try twoRegions()
        let port = harness.port
        defer { north.resume() }

        north.pause()
        let (hung, elapsed) = try timed { try PlainHTTPClient.spawn(port: port, Self.body(1)) }
        #expect(hung.status == 503)
        #expect(hung.errorCode == "region_unavailable")
        #expect(hung.headers["retry-after"] == "1")
        #expect(elapsed < .milliseconds(2000), "503 after \(elapsed)")

        // While the region is hung, its spawns fail fast and the other region is untouched.
        let (again, fast) = try timed { try PlainHTTPClient.spawn(port: port, Self.body(1)) }
        #expect(again.status == 503)
        #expect(fast < .milliseconds(1500))
        let (healthy, took) = try timed { try PlainHTTPClient.spawn(port: port, Self.body(2)) }
        #expect(healthy.status == 202)
        #expect(took < .milliseconds(500))

        north.resume()
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(10)) {
                (try? PlainHTTPClient.spawn(port: port, Self.body(1)))?.status == 202
            })
    }

    @Test("past the cap of outstanding commands, spawns get 503 region_overloaded at once")
    func outstandingCap() async throws {
        let redis = try await RedisServerProcess.temporary()
        let harness = try GatewayHarness(
            regions: [GatewayHarness.region("north", redis: redis, biomes: [1])], threads: 1
        ) {
            $0.maxOutstandingPerConnection = 4
            $0.redisTimeout = .seconds(3)
        }
        let port = harness.port
        redis.pause()
        defer { redis.resume() }
        let results = await Concurrently.results(12, width: 12) { _ in
            try PlainHTTPClient.spawn(port: port, Self.body(1))
        }
        let statuses = results.compactMap { try? $0.get() }
        #expect(statuses.count == 12)
        #expect(statuses.filter { $0.errorCode == "region_overloaded" }.count == 8)
        #expect(statuses.filter { $0.errorCode == "region_unavailable" }.count == 4)
    }

    @Test("Redis's OOM refusal maps to 503 region_overloaded and clears when memory frees up")
    func outOfMemory() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try GatewayHarness(regions: [GatewayHarness.region("north", redis: redis, biomes: [1])])
        try redis.cli("CONFIG", "SET", "maxmemory-policy", "noeviction")
        try redis.cli("CONFIG", "SET", "maxmemory", "1")
        let full = try PlainHTTPClient.spawn(port: harness.port, Self.body(1))
        #expect(full.status == 503)
        #expect(full.errorCode == "region_overloaded")
        #expect(full.headers["retry-after"] != nil)
        try redis.cli("CONFIG", "SET", "maxmemory", "0")
        #expect(try PlainHTTPClient.spawn(port: harness.port, Self.body(1)).status == 202)
        #expect(try redis.streamLength("EVSTREAM:1") == 1)
    }
}
