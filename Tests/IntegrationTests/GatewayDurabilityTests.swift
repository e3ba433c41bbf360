import BusDomain
import BusRegions
import BusTesting
import Foundation
import Testing

/// `stream.durability`: the gateway's `WAIT` after appends, against real Redis replication.
@Suite("Gateway: durable acknowledgement (WAIT)", .serialized)
struct GatewayDurabilityTests {
    private static func event(_ biome: Int, chestID: String) -> String {
        #"{"biome_id": \#(biome), "type": "chest", "coords": [1, 2], "chest_id": "\#(chestID)"}"#
    }

    private static func region(_ redis: RedisServerProcess, replicas: Int, timeoutMs: Int = 50) -> RegionConfig {
        var region = GatewayHarness.region("north", redis: redis, biomes: [1])
        region.stream.durability = StreamDurability(replicas: replicas, timeoutMs: timeoutMs)
        return region
    }

    /// A single spawn, a keyed one and a batch of two; their statuses and error codes.
    private static func spawnEveryWay(_ port: Int, tag: String) throws -> [(status: Int, code: String?)] {
        let single = try PlainHTTPClient.spawn(port: port, event(1, chestID: "\(tag)-single"))
        let keyed = try PlainHTTPClient.request(
            port: port, method: "POST", path: "/v1/spawn",
            headers: ["Content-Type": "application/json", "Idempotency-Key": "\(tag)-key"],
            body: Array(event(1, chestID: "\(tag)-keyed").utf8))
        let batchBody = #"{"events": ["# + event(1, chestID: "\(tag)-b1") + "," + event(1, chestID: "\(tag)-b2") + "]}"
        let batch = try PlainHTTPClient.request(
            port: port, method: "POST", path: "/v1/spawn/batch", headers: ["Content-Type": "application/json"],
            body: Array(batchBody.utf8))
        #expect(batch.status == 200)
        let results = (batch.json["results"] as? [[String: Any]]) ?? []
        #expect(results.count == 2)
        var outcomes = [(single.status, single.errorCode), (keyed.status, keyed.errorCode)]
        for result in results {
            outcomes.append(
                (result["status"] as? Int ?? 0, (result["error"] as? [String: Any])?["code"] as? String))
        }
        return outcomes
    }

    @Test("replicas: 1 on a Redis without replicas: every kind of spawn is 503 region_degraded, the entry exists")
    func degradedWithoutReplicas() throws {
        let redis = try RedisServerProcess.temporary()
        let gateway = try GatewayHarness(regions: [Self.region(redis, replicas: 1)])
        for outcome in try Self.spawnEveryWay(gateway.port, tag: "d") {
            #expect(outcome.status == 503)
            #expect(outcome.code == "region_degraded")
        }
        let single = try PlainHTTPClient.spawn(port: gateway.port, Self.event(1, chestID: "again"))
        #expect(single.headers["retry-after"] != nil)
        #expect(single.errorMessage?.contains("0 of 1 replicas") == true, "\(single.errorMessage ?? "")")
        // WAIT follows the write: the entries exist, only their replication is unconfirmed.
        #expect(try redis.streamLength("EVSTREAM:1") == 5)
    }

    @Test("replicas: 1 with a replica attached: every kind of spawn is 202 and on the replica")
    func acceptedWithReplica() async throws {
        let master = try await RedisServerProcess.temporary()
        let replica = try await RedisServerProcess.temporary()
        try replica.cli("REPLICAOF", "127.0.0.1", String(master.port))
        let linked = await Polling.waitUntilAsync(timeout: .seconds(20)) {
            ((try? replica.cli("INFO", "replication")) ?? "").contains("master_link_status:up")
        }
        #expect(linked)
        let gateway = try GatewayHarness(regions: [Self.region(master, replicas: 1, timeoutMs: 2000)])
        for outcome in try Self.spawnEveryWay(gateway.port, tag: "a") {
            #expect(outcome.status == 202, "\(outcome.code ?? "")")
        }
        // WAIT answered only once the replica had them.
        #expect(try replica.streamLength("EVSTREAM:1") == 4)
    }
}
