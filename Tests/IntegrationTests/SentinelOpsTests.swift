import BusDomain
import BusRegions
import BusTesting
import Foundation
import Testing

/// `status`, `/v1/regions` and `dlq` on a region whose Redis is a Sentinel-monitored master.
@Suite("Sentinel regions in status, /v1/regions and dlq", .serialized)
struct SentinelOpsTests {
    private static func regionOf(_ document: [String: Any]) -> [String: Any]? {
        (document["regions"] as? [[String: Any]])?.first
    }

    @Test("role, master and replicas per region, from the gateway and from biomebus status; dlq finds the master")
    func masterShown() async throws {
        let cluster = try await SentinelCluster.start(replicas: 1)
        let masterPort = try #require(try cluster.announcedMasterPort(sentinel: 0))
        let replicaPort = try #require(cluster.servers.map(\.port).first { $0 != masterPort })
        let region = RegionConfig(
            name: "north", redis: try RedisAddress(url: cluster.url), biomes: [BiomeID(53)!])
        let gateway = try GatewayHarness(regions: [region])
        // The spawn only puts an entry in the stream for `status` to count. A loaded run once saw
        // it refused right after startup (the replica's first full sync forks the master), so a
        // 503 is retried; any other answer, or none within the bound, fails with what was said.
        var spawned: PlainHTTPResponse?
        _ = await Polling.waitUntilAsync(timeout: .seconds(30), every: .milliseconds(200)) {
            spawned = try? PlainHTTPClient.spawn(
                port: gateway.port, #"{"biome_id": 53, "type": "chest", "coords": [1, 2]}"#)
            return spawned.map { $0.status != 503 } ?? false
        }
        #expect(spawned?.status == 202, "\(spawned.map { "\($0.status) \($0.text)" } ?? "no answer")")

        let fromGateway = try #require(
            Self.regionOf(try PlainHTTPClient.request(port: gateway.port, method: "GET", path: "/v1/regions").json))
        #expect(fromGateway["role"] as? String == "master")
        #expect(fromGateway["master"] as? String == "127.0.0.1:\(masterPort)")
        #expect(fromGateway["replicas"] as? [String] == ["127.0.0.1:\(replicaPort)"])
        #expect(fromGateway["redis"] as? String == cluster.url)

        let directory = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-sentinel-status")
        try "name: north\nredis: \(cluster.url)\nbiomes: [53]\n".write(
            to: directory.appendingPathComponent("north.yaml"), atomically: true, encoding: .utf8)
        let json = try BiomeBusProcess(["status", "--regions", directory.path, "--json"])
        #expect(await json.waitForExit() == 0)
        let output = try String(contentsOf: json.stdoutFile, encoding: .utf8)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let fromStatus = try #require(Self.regionOf(document))
        #expect(fromStatus["up"] as? Bool == true, "\(output)")
        #expect(fromStatus["master"] as? String == "127.0.0.1:\(masterPort)")
        #expect(
            ((fromStatus["biomes"] as? [[String: Any]])?.first?["length"] as? Int) == 1,
            "status read the master's stream")

        let dlq = try BiomeBusProcess(["dlq", "list", "--biome", "53", "--regions", directory.path])
        #expect(await dlq.waitForExit() == 0, "\((try? String(contentsOf: dlq.logFile, encoding: .utf8)) ?? "")")
    }
}
