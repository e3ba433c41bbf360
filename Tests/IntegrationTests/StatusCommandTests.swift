import BusTesting
import Foundation
import Testing

@Suite("biomebus status")
struct StatusCommandTests {
    private func regionsDirectory(_ files: [String: String]) throws -> URL {
        let directory = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-status")
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return directory
    }

    @Test("after N spawns the depth shows in status --json and the table, and a healthy system exits 0")
    func depthAndHealthy() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try GatewayHarness(regions: [GatewayHarness.region("north", redis: redis, biomes: [53])])
        for _ in 0..<12 {
            #expect(
                try PlainHTTPClient.spawn(port: harness.port, #"{"biome_id": 53, "type": "chest", "coords": [1, 2]}"#)
                    .status == 202)
        }
        let regions = try regionsDirectory(["north.yaml": "name: north\nredis: \(redis.url)\nbiomes: [53]\n"])

        let json = try BiomeBusProcess(["status", "--regions", regions.path, "--json"])
        #expect(json.waitForExit() == 0)
        let output = try String(contentsOf: json.stdoutFile, encoding: .utf8)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let biome = try #require(
            ((document["regions"] as? [[String: Any]])?.first?["biomes"] as? [[String: Any]])?.first)
        #expect(biome["length"] as? Int == 12)
        #expect(document["healthy"] as? Bool == true)

        // The gateway's /v1/regions prints the same snapshot.
        let fromGateway = try PlainHTTPClient.request(port: harness.port, method: "GET", path: "/v1/regions").json
        let gatewayBiome = ((fromGateway["regions"] as? [[String: Any]])?.first?["biomes"] as? [[String: Any]])?.first
        #expect(gatewayBiome?["length"] as? Int == 12)

        let table = try BiomeBusProcess(["status", "--regions", regions.path])
        #expect(table.waitForExit() == 0)
        let text = try String(contentsOf: table.stdoutFile, encoding: .utf8)
        let row = text.split(separator: "\n").first { $0.contains("north") && $0.contains("53") }
        #expect(row?.contains(" 12 ") == true, "\(text)")
        #expect(row?.hasPrefix("!") == false)
    }

    @Test("a region that is down, or a stream past 60 % of maxlen, marks its row and exits 1")
    func unhealthy() throws {
        let redis = try RedisServerProcess.temporary()
        let deadPort = LoopbackPorts.freePort()
        let regions = try regionsDirectory([
            "a.yaml": "name: alive\nredis: \(redis.url)\nbiomes: [1]\nstream: {maxlen: 10}\n",
            "b.yaml": "name: dead\nredis: redis://127.0.0.1:\(deadPort)/0\nbiomes: [2]\n",
        ])
        for _ in 0..<7 { try redis.cli("XADD", "EVSTREAM:1", "*", "type", "chest") }
        let status = try BiomeBusProcess(["status", "--regions", regions.path])
        #expect(status.waitForExit() == 1)
        let text = try String(contentsOf: status.stdoutFile, encoding: .utf8)
        #expect(text.contains("! region dead is down"), "\(text)")
        #expect(text.contains("! biome 1 stream at 70 % of maxlen"), "\(text)")
        // Table rows are "!" plus column padding; the reasons below the table are "! …".
        let marked = text.split(separator: "\n").filter { $0.hasPrefix("!  ") }
        #expect(marked.count == 2)
    }
}
