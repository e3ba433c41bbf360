import BusDomain
import BusOps
import BusRedis
import BusRegions
import BusTesting
import Testing

/// Scripts run by SHA (EVALSHA); a Redis that lost them (restart, failover, SCRIPT FLUSH)
/// answers NOSCRIPT, and the runner loads them again instead of failing the work.
@Suite("Scripts survive SCRIPT FLUSH")
struct ScriptFlushTests {
    @Test("dead-lettering keeps working after the server forgot the consumer's scripts")
    func deadLetterAfterFlush() async throws {
        let redis = try await RedisServerProcess.temporary()
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        let region = ConsumerHarness.region(redis: redis, biomes: [7], maxDeliveries: 2)
        let consumer = try ConsumerHarness(region: region, postgresURL: database.url)
        _ = consumer
        try redis.cli("XADD", "EVSTREAM:7", "*", "type", "chest", "coords", "not-json", "chest_id", "bad-1", "ts", "1")
        #expect(await Polling.waitUntilAsync(timeout: .seconds(15)) { (try? redis.streamLength("EVDLQ:7")) == 1 })

        try redis.cli("SCRIPT", "FLUSH")
        try redis.cli("XADD", "EVSTREAM:7", "*", "type", "chest", "coords", "not-json", "chest_id", "bad-2", "ts", "1")
        #expect(await Polling.waitUntilAsync(timeout: .seconds(15)) { (try? redis.streamLength("EVDLQ:7")) == 2 })
        #expect(try redis.entries("EVDLQ:7").map { $0.fields["chest_id"] } == ["bad-1", "bad-2"])
        #expect(await Polling.waitUntilAsync { (try? redis.pending("EVSTREAM:7")) == 0 })
    }

    @Test("a replay after SCRIPT FLUSH still moves the dead letter back, once")
    func replayAfterFlush() throws {
        let redis = try RedisServerProcess.temporary()
        for index in 0..<2 {
            try redis.cli(
                "XADD", "EVDLQ:9", "*", "type", "chest", "coords", "[1,2]", "chest_id", "c-\(index)", "ts", "1",
                "source_id", "1-\(index)", "deliveries", "5", "error", "boom")
        }
        let blocking = BlockingRedis()
        defer { blocking.close() }
        let client = try blocking.server(try RedisAddress(url: redis.url))
        let biome = try #require(BiomeID(9))
        let letters = try DeadLetters.list(biome, over: client)
        #expect(letters.count == 2)

        #expect(try DeadLetters.replay([letters[0]], biome: biome, maxlen: 100, over: client).count == 1)
        try redis.cli("SCRIPT", "FLUSH")
        let moved = try DeadLetters.replay(letters, biome: biome, maxlen: 100, over: client)
        #expect(moved.map(\.from) == [letters[1].id], "the first was replayed already")
        #expect(try redis.streamLength("EVDLQ:9") == 0)
        #expect(try redis.entries("EVSTREAM:9").map { $0.fields["chest_id"] } == ["c-0", "c-1"])
        let stats = try redis.cli("INFO", "commandstats")
        #expect(stats.contains("cmdstat_evalsha:") && !stats.contains("cmdstat_eval:"), "by SHA, never EVAL")
    }
}
