import BusDomain
import BusTesting
import Foundation
import Testing

@testable import BusConsumer

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Consumers: timing, reclaim cursor, acknowledgements, transient failures")
struct ConsumerTimingTests {
    /// The issue's fast-reclaim region (no handler_timeout_ms: it is derived), plus `extra`.
    private func fastRegionDirectory(redis: RedisServerProcess, extra: String = "") throws -> URL {
        let directory = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-fast")
        let yaml = """
            name: fast
            redis: redis://127.0.0.1:\(redis.port)/0
            biomes: [31]
            consumer:
              block_ms: 200
              backoff: {initial_ms: 50, max_ms: 400}
              claim_idle_ms: 1500
            \(extra)
            """
        try yaml.write(to: directory.appendingPathComponent("fast.yaml"), atomically: true, encoding: .utf8)
        return directory
    }

    @Test(
        "the issue's fast-reclaim region (claim_idle_ms 1500, max_ms 400, block_ms 200) starts in gateway and consumer")
    func fastRegionStarts() async throws {
        let redis = try await RedisServerProcess.temporary()
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        let directory = try fastRegionDirectory(redis: redis)
        let port = LoopbackPorts.freePort()
        let gateway = try BiomeBusProcess([
            "gateway", "--regions", directory.path, "--listen", "127.0.0.1:\(port)", "--threads", "1",
        ])
        let consumer = try BiomeBusProcess([
            "consumer", "--regions", directory.path, "--region", "fast", "--postgres", database.url, "--name", "fast-1",
        ])
        #expect(await gateway.waitForLog("gateway listening"), "\(gateway.stderr)")
        #expect(await consumer.waitForLog("region up"), "\(consumer.stderr)")
        #expect(
            await Polling.waitUntilAsync {
                (try? PlainHTTPClient.spawn(
                    port: port, #"{"biome_id": 31, "type": "chest", "coords": [1, 2], "chest_id": "f-1"}"#))?.status
                    == 202
            })
        #expect(
            await Polling.waitUntilAsync {
                (try? database.psql("SELECT count(*) FROM treasure_chests WHERE chest_id = 'f-1'")) == "1"
            })
        for child in [gateway, consumer] {
            child.signal(SIGTERM)
            #expect(await child.waitForExit() == 0, "\(child.stderr)")
        }
    }

    @Test("a region whose consumer timing cannot work: the gateway serves it, the consumer refuses it in one line")
    func onlyConsumersJudgeConsumerTiming() throws {
        let redis = try RedisServerProcess.temporary()
        // 480 + 5000 ms do not fit in 1500.
        let directory = try fastRegionDirectory(redis: redis, extra: "  handler_timeout_ms: 5000\n")
        let port = LoopbackPorts.freePort()
        let gateway = try BiomeBusProcess([
            "gateway", "--regions", directory.path, "--listen", "127.0.0.1:\(port)", "--threads", "1",
        ])
        #expect(gateway.waitForLog("gateway listening"), "\(gateway.stderr)")
        let consumer = try BiomeBusProcess([
            "consumer", "--regions", directory.path, "--region", "fast", "--postgres", "postgresql://x@127.0.0.1:1/x",
        ])
        #expect(consumer.waitForExit() == 2)
        #expect(consumer.stderr.contains("fast.yaml: consumer.claim_idle_ms: must exceed"), "\(consumer.stderr)")
        #expect(consumer.stderr.split(separator: "\n").count == 1)
        gateway.signal(SIGTERM)
        #expect(gateway.waitForExit() == 0)
    }

    @Test("entries of a dead consumer behind a long head of live pending entries are reclaimed (XAUTOCLAIM's cursor)")
    func reclaimFollowsTheCursor() async throws {
        let redis = try await RedisServerProcess.temporary()
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        let region = ConsumerHarness.region(redis: redis, biomes: [9], maxInFlight: 4, claimIdleMs: 3000)
        try redis.cli("XGROUP", "CREATE", "EVSTREAM:9", "treasure", "0", "MKSTREAM")
        try redis.cli(
            "EVAL",
            """
            for i = 1, 105 do
              redis.call('XADD', KEYS[1], '*', 'type', 'chest', 'coords', '[1,2]', 'chest_id', 'h-' .. i, 'ts', '1')
            end
            """, "1", "EVSTREAM:9")
        try redis.cli("XREADGROUP", "GROUP", "treasure", "ghost", "COUNT", "1000", "STREAMS", "EVSTREAM:9", ">")
        let ids = try redis.entries("EVSTREAM:9").map(\.id)
        // The first 100 belong to a live consumer (kept fresh below); the last 5 to a dead one.
        let busy = Array(ids.prefix(100))
        _ = try redis.cli(["XCLAIM", "EVSTREAM:9", "treasure", "busy", "0"] + busy + ["JUSTID"])
        _ = try redis.cli(
            ["XCLAIM", "EVSTREAM:9", "treasure", "ghost", "0"] + ids.suffix(5) + ["IDLE", "600000", "JUSTID"])

        let consumer = try ConsumerHarness(region: region, postgresURL: database.url, name: "live")
        _ = consumer
        // One XAUTOCLAIM looks at no more than 10 × COUNT (here ≤ 40) pending entries.
        let reclaimed = await Polling.waitUntilAsync(timeout: .seconds(15)) {
            _ = try? redis.cli(["XCLAIM", "EVSTREAM:9", "treasure", "busy", "0"] + busy + ["JUSTID"])
            return (try? database.psql("SELECT count(*) FROM treasure_chests")) == "5"
        }
        #expect(reclaimed, "rows: \((try? database.psql("SELECT count(*) FROM treasure_chests")) ?? "?")")
        #expect(await Polling.waitUntilAsync { (try? redis.pending("EVSTREAM:9", consumer: "ghost")) == 0 })
        #expect(try redis.pending("EVSTREAM:9", consumer: "busy") == 100)
        #expect(
            try database.psql("SELECT string_agg(chest_id, ',' ORDER BY chest_id) FROM treasure_chests")
                == "h-101,h-102,h-103,h-104,h-105")
    }

    @Test("entries completed in one loop pass are acknowledged with one XACK")
    func acknowledgementsAreBatched() async throws {
        let redis = try await RedisServerProcess.temporary()
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        let region = ConsumerHarness.region(redis: redis, biomes: [10], maxInFlight: 64)
        try redis.cli(
            "EVAL",
            """
            for i = 1, 300 do
              redis.call('XADD', KEYS[1], '*', 'type', 'chest', 'coords', '[1,2]', 'chest_id', 'a-' .. i, 'ts', '1')
            end
            """, "1", "EVSTREAM:10")
        let consumer = try ConsumerHarness(region: region, postgresURL: database.url)
        _ = consumer
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(20)) {
                (try? database.psql("SELECT count(*) FROM treasure_chests")) == "300"
                    && (try? redis.pending("EVSTREAM:10")) == 0
            })
        let stats = try redis.cli("INFO", "commandstats")
        let line = try #require(
            stats.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_xack:") }, "\(stats)")
        let calls = Int(line.split(separator: ",")[0].split(separator: "=")[1]) ?? 0
        // The handler writes what arrives in one pass with one INSERT, whose completions all
        // land in one pass: about one XACK per read of up to 64, certainly not one per entry.
        #expect(calls > 0 && calls <= 100, "\(line)")
    }

    @Test(
        "transient SQLSTATEs (40P01 from a trigger) retry the batch without counting deliveries: nothing is dead-lettered"
    )
    func transientFailuresAreRetried() async throws {
        let redis = try await RedisServerProcess.temporary()
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        try database.psql(
            """
            CREATE TABLE outage (on_ boolean);
            INSERT INTO outage VALUES (true);
            CREATE SEQUENCE refused;
            CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF EXISTS (SELECT 1 FROM outage) THEN
                PERFORM nextval('refused');
                RAISE EXCEPTION 'simulated deadlock' USING ERRCODE = '40P01';
              END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER refuse BEFORE INSERT ON treasure_chests FOR EACH ROW EXECUTE FUNCTION refuse();
            """)
        let region = ConsumerHarness.region(redis: redis, biomes: [12], maxDeliveries: 2, initialMs: 10, maxMs: 50)
        for index in 0..<10 {
            try redis.cli(
                "XADD", "EVSTREAM:12", "*", "type", "chest", "coords", "[1,2]", "chest_id", "d-\(index)", "ts", "1")
        }
        let consumer = try ConsumerHarness(region: region, postgresURL: database.url)
        _ = consumer
        // Several refusals per entry; a sequence is not rolled back with the failed INSERT.
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(15)) {
                (Int((try? database.psql("SELECT last_value FROM refused")) ?? "0") ?? 0) >= 40
            })
        #expect(try redis.streamLength("EVDLQ:12") == 0)
        let counts = try redis.cli("XPENDING", "EVSTREAM:12", "treasure", "-", "+", "100")
            .split(separator: "\n").enumerated().filter { $0.offset % 4 == 3 }.map(\.element)
        #expect(counts.count == 10 && counts.allSatisfy { $0 == "1" }, "delivery counts \(counts)")

        try database.psql("DELETE FROM outage")
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(15)) {
                (try? database.psql("SELECT count(*) FROM treasure_chests")) == "10"
                    && (try? redis.pending("EVSTREAM:12")) == 0
            })
        #expect(try redis.streamLength("EVDLQ:12") == 0)
    }

    @Test("a reclaim of more entries than the default command cap knows every delivery count (no retry, all dead)")
    func bigReclaimFitsTheCommandCap() async throws {
        let redis = try await RedisServerProcess.temporary()
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        let count = 1200
        let region = ConsumerHarness.region(redis: redis, biomes: [13], maxInFlight: count, maxDeliveries: 5)
        try redis.cli("XGROUP", "CREATE", "EVSTREAM:13", "treasure", "0", "MKSTREAM")
        // Unparseable entries, pending on a dead consumer, delivered 4 times already: the
        // reclaim is their 5th delivery, so each is dead-lettered at its first failure.
        try redis.cli(
            "EVAL",
            """
            for i = 1, tonumber(ARGV[1]) do
              redis.call('XADD', KEYS[1], '*', 'type', 'chest', 'coords', 'bad', 'chest_id', 'p-' .. i, 'ts', '1')
            end
            redis.call('XREADGROUP', 'GROUP', 'treasure', 'ghost', 'COUNT', ARGV[1], 'STREAMS', KEYS[1], '>')
            for _, entry in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
              redis.call('XCLAIM', KEYS[1], 'treasure', 'ghost', 0, entry[1], 'IDLE', 600000, 'RETRYCOUNT', 4, 'JUSTID')
            end
            """, "1", "EVSTREAM:13", String(count))
        try redis.cli("CONFIG", "RESETSTAT")
        let consumer = try ConsumerHarness(region: region, postgresURL: database.url)
        _ = consumer
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(20)) { (try? redis.streamLength("EVDLQ:13")) == count },
            "dead letters: \((try? redis.streamLength("EVDLQ:13")) ?? -1)")
        #expect(await Polling.waitUntilAsync { (try? redis.pending("EVSTREAM:13")) == 0 })
        #expect(
            try redis.entries("EVDLQ:13").allSatisfy { $0.fields["deliveries"] == "5" }, "every entry: 5 deliveries")
        let stats = try redis.cli("INFO", "commandstats")
        #expect(!stats.contains("cmdstat_xclaim:"), "no entry was retried: \(stats)")
    }

    @Test(
        "the handler's Postgres lease and statement timeouts fit twice inside the handler timeout",
        arguments: [820, 5000, 1])
    func postgresTimeoutsFitTheHandlerTimeout(_ handlerTimeoutMs: Int) {
        let budget = ConsumerWorker.postgresTimeouts(handlerTimeoutMs: handlerTimeoutMs)
        if handlerTimeoutMs == 5000 { #expect(budget == (.milliseconds(500), .milliseconds(1750))) }
        if handlerTimeoutMs >= 100 {
            #expect((budget.lease + budget.query) * 2 < .milliseconds(handlerTimeoutMs))
        }
        #expect(budget.lease > .zero && budget.query >= .milliseconds(1))
    }

    @Test("a handler run that completes after its entry was released and taken on again is ignored")
    func runNumbersAreNeverReused() async throws {
        let redis = try await RedisServerProcess.temporary()
        var region = ConsumerHarness.region(redis: redis, biomes: [14], maxInFlight: 1, maxDeliveries: 100)
        region.consumer.blockMs = 100
        var configuration = RegionConsumer.Configuration(region: region, biomes: [BiomeID(14)!], consumerName: "me")
        configuration.handlerTimeout = .seconds(1)
        configuration.reclaimInterval = .milliseconds(100)
        let harness = RegionConsumerHarness(configuration: configuration)
        let id = try redis.cli(
            "XADD", "EVSTREAM:14", "*", "type", "chest", "coords", "[1,2]", "chest_id", "n-1", "ts", "1")
        #expect(await Polling.waitUntilAsync { harness.onLoop { _, handler in handler.calls.count } == 1 })
        // Another consumer takes the entry while the first run hangs: after its timeout this
        // consumer finds the entry gone (lost ownership) and lets it go.
        try redis.cli("XCLAIM", "EVSTREAM:14", "treasure", "thief", "0", id, "JUSTID")
        #expect(
            await Polling.waitUntilAsync { harness.onLoop { consumer, _ in consumer.statistics.lostOwnership } == 1 })
        #expect(harness.onLoop { consumer, _ in consumer.inFlight } == 0)
        // The thief dies: this consumer reclaims the entry and runs the handler again.
        try redis.cli("XCLAIM", "EVSTREAM:14", "treasure", "thief", "0", id, "IDLE", "600000", "JUSTID")
        #expect(await Polling.waitUntilAsync { harness.onLoop { _, handler in handler.calls.count } == 2 })

        // The first run finally answers: it must not settle the second.
        let handled = harness.onLoop { consumer, handler in
            handler.calls[0].completion(.success(()))
            return consumer.statistics.handled
        }
        #expect(handled == 0, "a stale run's completion was taken for the current one")
        #expect(try redis.pending("EVSTREAM:14", consumer: "me") == 1)
        let handledNow = harness.onLoop { consumer, handler in
            handler.calls[1].completion(.success(()))
            return consumer.statistics.handled
        }
        #expect(handledNow == 1)
        #expect(await Polling.waitUntilAsync { (try? redis.pending("EVSTREAM:14")) == 0 })
        harness.shutdown()
    }
}
