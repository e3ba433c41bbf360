import BusConsumer
import BusDomain
import BusRegions
import BusTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Consumers: groups, in-flight cap, retries, dead letters, reclaim")
struct ConsumerTests {
    private func spawn(_ port: Int, biome: Int, chest: String, x: Int = 1) throws -> Int {
        try PlainHTTPClient.spawn(
            port: port, #"{"biome_id": \#(biome), "type": "chest", "coords": [\#(x), 2.5], "chest_id": "\#(chest)"}"#
        ).status
    }

    @Test("100 spawns plus a duplicate: 100 chests at version 1, nothing pending, nothing dead")
    func hundredSpawns() async throws {
        let redis = try await RedisServerProcess.temporary()
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        let region = ConsumerHarness.region(redis: redis, biomes: [1, 2])
        let gateway = try GatewayHarness(regions: [region])
        let consumer = try ConsumerHarness(region: region, postgresURL: database.url)
        _ = consumer
        for index in 0..<100 {
            #expect(try spawn(gateway.port, biome: index % 2 + 1, chest: "c-\(index)", x: index) == 202)
        }
        #expect(try spawn(gateway.port, biome: 2, chest: "c-5", x: 999) == 202, "a second entry for chest c-5")

        let done = await Polling.waitUntilAsync(timeout: .seconds(20)) {
            (try? database.psql("SELECT count(*) FROM treasure_chests")) == "100"
                && (try? redis.pending("EVSTREAM:1")) == 0 && (try? redis.pending("EVSTREAM:2")) == 0
        }
        #expect(done)
        #expect(
            try database.psql("SELECT count(*) FROM treasure_chests WHERE version = 1 AND state = 'spawned'") == "100")
        #expect(
            try database.psql("SELECT coords::text FROM treasure_chests WHERE chest_id = 'c-5'") == "{5,2.5}",
            "the first entry wins")
        #expect(try database.psql("SELECT count(*) FROM treasure_chests WHERE stream_id IS NULL") == "0")
        #expect(try redis.streamLength("EVDLQ:1") == 0 && redis.streamLength("EVDLQ:2") == 0)
    }

    @Test("a backlog on several streams of one region drains completely, and pending never passes the cap")
    func backlogOnSeveralStreams() async throws {
        let redis = try await RedisServerProcess.temporary()
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        let region = ConsumerHarness.region(redis: redis, biomes: [11, 12, 13, 14], maxInFlight: 8)
        // One script per stream: 100 entries each, as the gateway writes them.
        let fill = """
            for i = 1, 100 do
              redis.call('XADD', KEYS[1], '*', 'type', 'chest', 'coords', '[1,2]', 'chest_id', ARGV[1] .. i, 'ts', '1700000000000')
            end
            """
        for biome in 11...14 { try redis.cli("EVAL", fill, "1", "EVSTREAM:\(biome)", "b\(biome)-") }
        let consumer = try ConsumerHarness(region: region, postgresURL: database.url, name: "backlog")
        _ = consumer
        var maximum = 0
        let drained = await Polling.waitUntilAsync(timeout: .seconds(30)) {
            maximum = max(
                maximum, (11...14).reduce(0) { $0 + ((try? redis.pending("EVSTREAM:\($1)", consumer: "backlog")) ?? 0) }
            )
            return (try? database.psql("SELECT count(*) FROM treasure_chests")) == "400"
        }
        #expect(drained, "rows: \((try? database.psql("SELECT count(*) FROM treasure_chests")) ?? "?")")
        #expect(maximum <= 8, "pending across the region's streams reached \(maximum)")
        #expect(await Polling.waitUntilAsync { (11...14).allSatisfy { (try? redis.pending("EVSTREAM:\($0)")) == 0 } })
    }

    @Test(
        "an unparseable entry lands in EVDLQ after exactly max_deliveries deliveries; its neighbours are materialized")
    func poisonEntry() async throws {
        let redis = try await RedisServerProcess.temporary()
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        let region = ConsumerHarness.region(redis: redis, biomes: [7], maxDeliveries: 3)
        let consumer = try ConsumerHarness(region: region, postgresURL: database.url)
        _ = consumer
        try redis.cli(
            "XADD", "EVSTREAM:7", "*", "type", "chest", "coords", "[1,2]", "chest_id", "before", "ts", "1700000000000")
        let poisonID = try redis.cli(
            "XADD", "EVSTREAM:7", "*", "type", "chest", "coords", "not-json", "chest_id", "bad", "ts", "1")
        try redis.cli(
            "XADD", "EVSTREAM:7", "*", "type", "chest", "coords", "[3,4]", "chest_id", "after", "ts", "1700000000000")

        #expect(await Polling.waitUntilAsync(timeout: .seconds(15)) { (try? redis.streamLength("EVDLQ:7")) == 1 })
        let dead = try #require(try redis.entries("EVDLQ:7").first)
        #expect(dead.fields["source_id"] == poisonID)
        #expect(dead.fields["deliveries"] == "3")
        #expect(dead.fields["error"]?.contains("coords") == true)
        #expect(dead.fields["chest_id"] == "bad" && dead.fields["coords"] == "not-json")
        #expect(
            await Polling.waitUntilAsync {
                (try? database.psql("SELECT string_agg(chest_id, ',' ORDER BY chest_id) FROM treasure_chests"))
                    == "after,before"
            })
        #expect(await Polling.waitUntilAsync { (try? redis.pending("EVSTREAM:7")) == 0 })
    }

    @Test(
        "stuck handlers (a locked table): pending for the process never exceeds max_in_flight; released, all is processed"
    )
    func stuckHandlersRespectTheCap() async throws {
        let redis = try await RedisServerProcess.temporary()
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        let region = ConsumerHarness.region(redis: redis, biomes: [3], maxInFlight: 8, maxDeliveries: 100)
        let gateway = try GatewayHarness(regions: [region])
        let consumer = try ConsumerHarness(region: region, postgresURL: database.url, name: "capped")
        _ = consumer
        // Long enough to outlast the sampling below even on a loaded machine.
        let lock = try TableLock(database: database, seconds: 8)
        for index in 0..<60 { #expect(try spawn(gateway.port, biome: 3, chest: "s-\(index)") == 202) }

        var maximum = 0
        var samples = 0
        let clock = ContinuousClock()
        let end = clock.now + .seconds(3)
        while clock.now < end {
            maximum = max(maximum, (try? redis.pending("EVSTREAM:3", consumer: "capped")) ?? 0)
            samples += 1
        }
        #expect(maximum == 8, "the cap is reached but never passed (max \(maximum) over \(samples) samples)")
        #expect(try database.psql("SELECT count(*) FROM treasure_chests") == "0", "nothing gets through the lock")

        await lock.waitUntilReleased()
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(30)) {
                (try? database.psql("SELECT count(*) FROM treasure_chests")) == "60"
                    && (try? redis.pending("EVSTREAM:3")) == 0
            })
        #expect(try redis.streamLength("EVDLQ:3") == 0)
    }

    @Test(
        "a consumer killed with SIGKILL while holding entries: a live consumer reclaims and materializes them within claim_idle_ms plus one read cycle"
    )
    func reclaimFromDeadConsumer() async throws {
        let redis = try await RedisServerProcess.temporary()
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        // The issue's fast-reclaim region: the handler timeout is derived (820 ms).
        let yaml = """
            name: north
            redis: redis://127.0.0.1:\(redis.port)/0
            biomes: [4]
            consumer:
              max_in_flight: 16
              max_deliveries: 100
              block_ms: 200
              backoff: {initial_ms: 50, max_ms: 400, jitter: 0.2}
              claim_idle_ms: 1500

            """
        let region = try RegionConfig.parse(yaml: yaml, file: "north.yaml")
        #expect(region.consumer.handlerTimeoutMs == 820)
        let directory = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-reclaim")
        try yaml.write(to: directory.appendingPathComponent("north.yaml"), atomically: true, encoding: .utf8)

        // The table is locked until the doomed consumer is gone: its inserts cannot finish.
        let lock = try TableLock(database: database, seconds: 60)
        let doomed = try BiomeBusProcess([
            "consumer", "--regions", directory.path, "--region", "north", "--postgres", database.url, "--name",
            "doomed",
        ])
        #expect(await doomed.waitForLog("region up"), "\(doomed.stderr)")
        for index in 0..<20 {
            try redis.cli(
                "XADD", "EVSTREAM:4", "*", "type", "chest", "coords", "[1,2]", "chest_id", "r-\(index)", "ts",
                "1700000000000")
        }
        #expect(
            await Polling.waitUntilAsync { (try? redis.pending("EVSTREAM:4", consumer: "doomed")) == 16 },
            "\(doomed.stderr)")
        let survivor = try ConsumerHarness(region: region, postgresURL: database.url, name: "survivor")
        _ = survivor

        let clock = ContinuousClock()
        let killed = clock.now
        doomed.signal(SIGKILL)
        #expect(await doomed.waitForExit() != nil)
        try lock.release(database: database)
        // Its entries look dead claim_idle_ms after its last touch; the survivor looks every
        // claim_idle_ms / 2, as soon as its blocking read (block_ms) returns. The margin covers
        // the inserts and a loaded test machine.
        let interval = RegionConsumer.Configuration(region: region, biomes: region.biomes, consumerName: "x")
            .reclaimInterval
        let bound =
            .milliseconds(region.consumer.claimIdleMs + region.consumer.blockMs + 2000) + interval
        let done = await Polling.waitUntilAsync(timeout: bound) {
            (try? redis.pending("EVSTREAM:4")) == 0
                && (try? database.psql("SELECT count(*) FROM treasure_chests")) == "20"
        }
        #expect(done, "not done within \(bound); after \(clock.now - killed)")
        #expect(await Polling.waitUntilAsync { (try? database.psql("SELECT count(*) FROM treasure_chests")) == "20" })
        #expect(try redis.pending("EVSTREAM:4", consumer: "doomed") == 0)
        #expect(try redis.streamLength("EVDLQ:4") == 0)
    }

    @Test(
        "pending ids whose entries were trimmed are dropped, not retried forever; a gone consumer that owns nothing is removed"
    )
    func trimmedPendingAndGoneConsumers() async throws {
        let redis = try await RedisServerProcess.temporary()
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        let region = ConsumerHarness.region(redis: redis, biomes: [8], claimIdleMs: 5300)
        // A consumer that read three entries and vanished; then the stream was trimmed under it.
        try redis.cli("XGROUP", "CREATE", "EVSTREAM:8", "treasure", "0", "MKSTREAM")
        for index in 0..<3 {
            try redis.cli(
                "XADD", "EVSTREAM:8", "*", "type", "chest", "coords", "[1,2]", "chest_id", "t-\(index)", "ts", "1")
        }
        try redis.cli("XREADGROUP", "GROUP", "treasure", "ghost", "COUNT", "10", "STREAMS", "EVSTREAM:8", ">")
        try redis.cli("XTRIM", "EVSTREAM:8", "MAXLEN", "0")
        #expect(try redis.pending("EVSTREAM:8", consumer: "ghost") == 3)

        let consumer = try ConsumerHarness(region: region, postgresURL: database.url, name: "live")
        _ = consumer
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(20)) { (try? redis.pending("EVSTREAM:8")) == 0 },
            "the trimmed ids leave the pending list")
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(25)) {
                guard let consumers = try? redis.cli("XINFO", "CONSUMERS", "EVSTREAM:8", "treasure") else {
                    return false
                }
                return !consumers.contains("ghost")
            }, "the gone consumer is removed from the group")
        #expect(try database.psql("SELECT count(*) FROM treasure_chests") == "0", "nothing was handled")
        #expect(try redis.streamLength("EVDLQ:8") == 0)
    }

    @Test("the consumer command rejects a biome given twice or biomes of two regions, in one line")
    func badBiomeSelection() throws {
        let directory = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-biomes")
        try "name: north\nredis: redis://127.0.0.1:1/0\nbiomes: [1, 2]\n".write(
            to: directory.appendingPathComponent("north.yaml"), atomically: true, encoding: .utf8)
        try "name: south\nredis: redis://127.0.0.1:1/0\nbiomes: [3]\n".write(
            to: directory.appendingPathComponent("south.yaml"), atomically: true, encoding: .utf8)
        for (biomes, message) in [(["1", "1"], "given twice"), (["1", "3"], "run one consumer per region")] {
            let child = try BiomeBusProcess(
                ["consumer", "--regions", directory.path, "--postgres", "postgresql://x@127.0.0.1:1/x", "--biome"]
                    + biomes)
            #expect(child.waitForExit() == 2)
            #expect(child.stderr.contains(message), "\(child.stderr)")
            #expect(child.stderr.split(separator: "\n").count == 1)
        }
    }

    @Test("SIGTERM: the consumer command drains and exits 0")
    func sigterm() async throws {
        let redis = try await RedisServerProcess.temporary()
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        let region = ConsumerHarness.region(redis: redis, biomes: [5])
        let directory = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-sigterm")
        try region.yaml.write(
            to: directory.appendingPathComponent("north.yaml"), atomically: true, encoding: .utf8)
        let adminPort = LoopbackPorts.freePort()
        let child = try BiomeBusProcess([
            "consumer", "--regions", directory.path, "--biome", "5", "--postgres", database.url, "--name", "graceful",
            "--admin", "127.0.0.1:\(adminPort)",
        ])
        #expect(await child.waitForLog("region up"), "\(child.stderr)")
        #expect(
            await Polling.waitUntilAsync {
                (try? PlainHTTPClient.request(port: adminPort, method: "GET", path: "/readyz"))?.status == 200
            })
        try redis.cli(
            "XADD", "EVSTREAM:5", "*", "type", "chest", "coords", "[1,2]", "chest_id", "t-1", "ts", "1700000000000")
        #expect(await Polling.waitUntilAsync { (try? database.psql("SELECT count(*) FROM treasure_chests")) == "1" })
        let metrics = try PlainHTTPClient.request(port: adminPort, method: "GET", path: "/metrics").text
        #expect(metrics.contains(#"biomebus_consumer_handled_total{region="north"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"biomebus_consumer_in_flight{region="north"} 0"#))
        #expect(metrics.contains("biomebus_consumer_handler_duration_seconds_count{region=\"north\"} 1"))
        child.signal(SIGTERM)
        #expect(await child.waitForExit() == 0)
        #expect(child.stderr.contains("consumer stopped"))
        #expect(try redis.pending("EVSTREAM:5") == 0)
    }
}

@Suite("Consumers: Postgres outage", .serialized)
struct ConsumerOutageTests {
    @Test("Postgres down for a while: nothing lost, nothing dead-lettered (its failures are transient)")
    func postgresOutage() async throws {
        let redis = try await RedisServerProcess.temporary()
        let server = try await PostgresCluster.forTest()
        let database = try TestDatabase(on: server)
        // Two deliveries would be spent in well under a second if an outage counted.
        let region = ConsumerHarness.region(redis: redis, biomes: [6], maxDeliveries: 2, initialMs: 50, maxMs: 500)
        let gateway = try GatewayHarness(regions: [region])
        let consumer = try ConsumerHarness(region: region, postgresURL: database.url)
        _ = consumer
        await server.stop()
        for index in 0..<30 {
            let status = try PlainHTTPClient.spawn(
                port: gateway.port, #"{"biome_id": 6, "type": "chest", "coords": [1, 2], "chest_id": "o-\#(index)"}"#
            ).status
            #expect(status == 202)
        }
        // Long enough for several failed deliveries of every entry.
        #expect(await Polling.waitUntilAsync(timeout: .seconds(10)) { ((try? redis.pending("EVSTREAM:6")) ?? 0) == 30 })
        try await Task.sleep(for: .milliseconds(1500))
        try await server.start()
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(30)) {
                (try? database.psql("SELECT count(*) FROM treasure_chests")) == "30"
                    && (try? redis.pending("EVSTREAM:6")) == 0
            })
        #expect(try redis.streamLength("EVDLQ:6") == 0)
    }
}
