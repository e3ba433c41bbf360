import BusDomain
import BusRedis
import BusRegions
import Testing

@testable import BusGateway

@Suite("ReplicaWait: stream.durability's WAIT and what its reply means")
struct ReplicaWaitTests {
    private func region(replicas: Int, timeoutMs: Int = 200) -> RegionConfig {
        RegionConfig(
            name: "north", redis: RedisAddress(host: "h"), biomes: [BiomeID(1)!],
            stream: StreamConfig(durability: StreamDurability(replicas: replicas, timeoutMs: timeoutMs)))
    }

    @Test("no WAIT without replicas; WAIT <replicas> <timeout_ms> with them")
    func command() throws {
        #expect(ReplicaWait(region(replicas: 0)) == nil)
        let wait = try #require(ReplicaWait(region(replicas: 2, timeoutMs: 750)))
        #expect(wait.command.encoded == RedisCommand("WAIT", 2, 750).encoded)
    }

    @Test("enough acknowledgements keep the outcome; too few, an error or a failure make it 503 region_degraded")
    func refusal() throws {
        let wait = try #require(ReplicaWait(region(replicas: 2)))
        #expect(wait.refusal(.success(.integer(2))) == nil)
        #expect(wait.refusal(.success(.integer(3))) == nil)
        for reply: Result<RedisReply, RedisError> in [
            .success(.integer(1)), .success(.integer(0)), .success(.null), .failure(.timedOut), .failure(.disconnected),
        ] {
            let error = try #require(wait.refusal(reply))
            #expect(error.status == 503)
            #expect(error.code == "region_degraded")
            #expect(error.retryAfter != nil)
        }
        #expect(wait.refusal(.success(.integer(1)))?.message.contains("1 of 2 replicas") == true)

        let accepted = SpawnPipeline.Outcome.accepted(id: "1-0", replayed: false)
        #expect(ReplicaWait.combine(accepted, nil) == accepted)
        let degraded = wait.refusal(.success(.integer(0)))
        #expect(ReplicaWait.combine(accepted, degraded) == .refused(degraded!))
        // A refused append stays refused for its own reason.
        let unavailable = SpawnPipeline.Outcome.refused(.regionUnavailable("north", reason: "down"))
        #expect(ReplicaWait.combine(unavailable, degraded) == unavailable)
    }
}
