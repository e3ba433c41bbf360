import BusConfigFile
import BusDomain
import Testing

@testable import BusRegions

@Suite("Region files")
struct RegionConfigTests {
    private let full = """
        name: emerald-coast
        redis: redis://127.0.0.1:6379/0
        biomes: [1, 2, 3, 53]
        stream:
          maxlen: 5000
          memory_high_water: 0.9
        consumer:
          group: treasure
          max_in_flight: 32
          block_ms: 2000
          backoff: { initial_ms: 100, multiplier: 2.0, max_ms: 8000, jitter: 0.2 }
          max_deliveries: 5
          claim_idle_ms: 30000
        """

    @Test("the contract's example parses, and defaults fill what is left out")
    func parsesAndDefaults() throws {
        let region = try RegionConfig.parse(yaml: full, file: "a.yaml")
        #expect(region.name == "emerald-coast")
        #expect(region.redis == RedisAddress(host: "127.0.0.1", port: 6379, database: 0))
        #expect(region.biomes.map(\.value) == [1, 2, 3, 53])
        #expect(region.stream == StreamConfig())
        #expect(region.consumer == ConsumerConfig())

        let minimal = try RegionConfig.parse(yaml: "name: a\nredis: redis://h\nbiomes: [9]\n", file: "b.yaml")
        #expect(minimal.stream == StreamConfig())
        #expect(minimal.consumer == ConsumerConfig())
        #expect(minimal.redis == RedisAddress(host: "h", port: 6379, database: 0))
    }

    @Test("stream.idempotency_ttl_s defaults to a day and takes 1 … 604800")
    func idempotencyTTL() throws {
        #expect(StreamConfig().idempotencyTTLSeconds == 86400)
        for value in [1, 3600, 604_800] {
            let region = try RegionConfig.parse(
                yaml: "name: a\nredis: redis://h\nbiomes: [1]\nstream: {idempotency_ttl_s: \(value)}\n", file: "a.yaml")
            #expect(region.stream.idempotencyTTLSeconds == value)
        }
    }

    @Test("stream.durability: replicas 0 … 5 (default 0), timeout_ms 1 … 10000 (default 200); YAML round trip")
    func durability() throws {
        #expect(StreamConfig().durability == StreamDurability(replicas: 0, timeoutMs: 200))
        let region = try RegionConfig.parse(
            yaml: "name: a\nredis: redis://h\nbiomes: [1]\nstream: {durability: {replicas: 2, timeout_ms: 750}}\n",
            file: "a.yaml")
        #expect(region.stream.durability == StreamDurability(replicas: 2, timeoutMs: 750))
        #expect(try RegionConfig.parse(yaml: region.yaml, file: "a.yaml") == region)
        let partial = try RegionConfig.parse(
            yaml: "name: a\nredis: redis://h\nbiomes: [1]\nstream: {durability: {replicas: 1}}\n", file: "a.yaml")
        #expect(partial.stream.durability == StreamDurability(replicas: 1, timeoutMs: 200))
        for (bad, key) in [
            ("{replicas: 6}", "stream.durability.replicas"), ("{replicas: -1}", "stream.durability.replicas"),
            ("{timeout_ms: 0}", "stream.durability.timeout_ms"),
            ("{timeout_ms: 10001}", "stream.durability.timeout_ms"),
            ("{quorum: 1}", "stream.durability.quorum"),
        ] {
            let yaml = "name: a\nredis: redis://h\nbiomes: [1]\nstream: {durability: \(bad)}\n"
            #expect(throws: ConfigFileError.self) { try RegionConfig.parse(yaml: yaml, file: "a.yaml") }
            do {
                _ = try RegionConfig.parse(yaml: yaml, file: "a.yaml")
            } catch {
                #expect(error.key == key)
            }
        }
    }

    @Test("a redis+sentinel:// region reads back from its YAML; a bad one names the redis key")
    func sentinelRegion() throws {
        let region = try RegionConfig.parse(
            yaml: "name: a\nredis: redis+sentinel://:pw@s1:26380,s2/mymaster?db=3\nbiomes: [1]\n", file: "a.yaml")
        let sentinel = try #require(region.redis.sentinel)
        #expect(sentinel.sentinels.map(\.description) == ["s1:26380", "s2:26379"])
        #expect(sentinel.masterName == "mymaster")
        #expect(region.redis.database == 3 && region.redis.password == "pw")
        #expect(try RegionConfig.parse(yaml: region.yaml, file: "a.yaml") == region)
        #expect(!region.redis.description.contains("pw"))
        do {
            _ = try RegionConfig.parse(yaml: "name: a\nredis: redis+sentinel://:pw@s1\nbiomes: [1]\n", file: "a.yaml")
            Issue.record("a Sentinel URL without a master name was accepted")
        } catch {
            #expect(error.key == "redis")
            #expect(!error.description.contains("pw"))
        }
    }

    @Test(
        "mistakes name the file and the key",
        arguments: [
            ("name: a\nredis: redis://h\nbiomes: [1]\nextra: 1\n", "extra"),
            ("name: a\nredis: redis://h\nbiomes: [1]\nstream: {maxlen: 10, depth: 2}\n", "stream.depth"),
            ("name: A_B\nredis: redis://h\nbiomes: [1]\n", "name"),
            ("name: 12\nredis: redis://h\nbiomes: [1]\n", "name"),
            ("redis: redis://h\nbiomes: [1]\n", "name"),
            ("name: a\nredis: http://h\nbiomes: [1]\n", "redis"),
            ("name: a\nredis: redis://h:99999\nbiomes: [1]\n", "redis"),
            ("name: a\nredis: redis://h\nbiomes: [1, 1]\n", "biomes"),
            ("name: a\nredis: redis://h\nbiomes: [-1]\n", "biomes"),
            ("name: a\nredis: redis://h\nbiomes: [2147483648]\n", "biomes"),
            ("name: a\nredis: redis://h\nbiomes: [\"1\"]\n", "biomes"),
            ("name: a\nredis: redis://h\nbiomes: 1\n", "biomes"),
            ("name: a\nredis: redis://h\nbiomes: []\n", "biomes"),
            ("name: a\nredis: redis://h\nbiomes: [1]\nstream: {maxlen: 0}\n", "stream.maxlen"),
            ("name: a\nredis: redis://h\nbiomes: [1]\nstream: {maxlen: \"5000\"}\n", "stream.maxlen"),
            ("name: a\nredis: redis://h\nbiomes: [1]\nstream: {memory_high_water: 1.5}\n", "stream.memory_high_water"),
            ("name: a\nredis: redis://h\nbiomes: [1]\nstream: {idempotency_ttl_s: 0}\n", "stream.idempotency_ttl_s"),
            (
                "name: a\nredis: redis://h\nbiomes: [1]\nstream: {idempotency_ttl_s: 604801}\n",
                "stream.idempotency_ttl_s"
            ),
            ("name: a\nredis: redis://h\nbiomes: [1]\nconsumer: {max_in_flight: 0}\n", "consumer.max_in_flight"),
            ("name: a\nredis: redis://h\nbiomes: [1]\nconsumer: {block_ms: 1.5}\n", "consumer.block_ms"),
            ("name: a\nredis: redis://h\nbiomes: [1]\nconsumer: {backoff: {jitter: 2}}\n", "consumer.backoff.jitter"),
            (
                "name: a\nredis: redis://h\nbiomes: [1]\nconsumer: {backoff: {initial_ms: 500, max_ms: 100}}\n",
                "consumer.backoff.max_ms"
            ),
            ("name: a\nredis: redis://h\nbiomes: [1]\nconsumer: {backoff: {speed: 1}}\n", "consumer.backoff.speed"),
            (
                "name: a\nredis: redis://h\nbiomes: [1]\nconsumer: {claim_idle_ms: 13000, handler_timeout_ms: 5000}\n",
                "consumer.claim_idle_ms"
            ),
            // 8000 + 5000 < 14000, but a retry can wait 8000 × 1.2: jitter counts.
            (
                "name: a\nredis: redis://h\nbiomes: [1]\nconsumer: {claim_idle_ms: 14000, handler_timeout_ms: 5000}\n",
                "consumer.claim_idle_ms"
            ),
            // Even the derived handler timeout (never below 100 ms) cannot fit.
            (
                "name: a\nredis: redis://h\nbiomes: [1]\nconsumer: {claim_idle_ms: 500, block_ms: 100, backoff: {initial_ms: 100, max_ms: 400}}\n",
                "consumer.claim_idle_ms"
            ),
            (
                "name: a\nredis: redis://h\nbiomes: [1]\nconsumer: {handler_timeout_ms: 0}\n",
                "consumer.handler_timeout_ms"
            ),
            (
                "name: a\nredis: redis://h\nbiomes: [1]\nconsumer: {handler_timeout_ms: 600001}\n",
                "consumer.handler_timeout_ms"
            ),
            (
                "name: a\nredis: redis://h\nbiomes: [1]\nconsumer: {handler_timeout_ms: \"5000\"}\n",
                "consumer.handler_timeout_ms"
            ),
            ("name: a\nredis: redis://h\nbiomes: [1]\nconsumer: {group: \"a b\"}\n", "consumer.group"),
            ("name: a\nredis: redis://h\nbiomes: [1]\nconsumer: {block_ms: 60000}\n", "consumer.block_ms"),
        ])
    func mistakes(_ yaml: String, _ key: String) {
        do {
            _ = try RegionConfig.parse(yaml: yaml, file: "regions/x.yaml")
            Issue.record("accepted:\n\(yaml)")
        } catch {
            #expect(error.file == "regions/x.yaml")
            #expect(error.key == key, "\(error)")
            #expect(error.description.hasPrefix("regions/x.yaml: \(key): "))
        }
    }

    @Test("the issue's fast-reclaim region starts: the handler timeout defaults to what claim_idle_ms leaves (820 ms)")
    func derivedHandlerTimeout() throws {
        let fast = try RegionConfig.parse(
            yaml: """
                name: a
                redis: redis://h
                biomes: [1]
                consumer: {claim_idle_ms: 1500, block_ms: 200, backoff: {max_ms: 400}}
                """, file: "a.yaml")
        #expect(fast.consumer.handlerTimeoutMs == 1500 - 480 - 200)
        #expect(fast.consumer.timingViolation == nil)
        // The default stands wherever it fits; a given value is taken as given.
        #expect(ConsumerConfig().handlerTimeoutMs == 5000)
        let given = try RegionConfig.parse(
            yaml: "name: a\nredis: redis://h\nbiomes: [1]\nconsumer: {claim_idle_ms: 1500, block_ms: 200, "
                + "backoff: {max_ms: 400}, handler_timeout_ms: 300}\n",
            file: "a.yaml")
        #expect(given.consumer.handlerTimeoutMs == 300)
        // Never below 100 ms: 1000 - 480 - 450 = 70.
        #expect(
            ConsumerConfig.derivedHandlerTimeoutMs(
                claimIdleMs: 1000, backoff: BackoffPolicy(initialMs: 100, maxMs: 400, jitter: 0.2), blockMs: 450)
                == 100)
        #expect(BackoffPolicy(maxMs: 8000, jitter: 0.2).longestDelayMs == 9600)
    }

    @Test(
        "a process that runs no consumer does not judge consumer tuning, but still refuses unknown keys and wrong types"
    )
    func gatewayDoesNotJudgeConsumerTuning() throws {
        let tuning = [
            "consumer: {claim_idle_ms: 1500, handler_timeout_ms: 5000}",
            "consumer: {block_ms: 60000}",
            "consumer: {max_in_flight: 0, group: \"a b\", backoff: {initial_ms: 500, max_ms: 100, jitter: 3}}",
            "consumer: {handler_timeout_ms: 0}",
        ]
        for consumer in tuning {
            let yaml = "name: a\nredis: redis://h\nbiomes: [1]\n\(consumer)\n"
            #expect(throws: ConfigFileError.self) { try RegionConfig.parse(yaml: yaml, file: "a.yaml") }
            let region = try RegionConfig.parse(yaml: yaml, file: "a.yaml", validation: .exceptConsumerTuning)
            #expect(region.biomes.map(\.value) == [1])
        }
        for (consumer, key) in [
            ("consumer: {speed: 1}", "consumer.speed"), ("consumer: {claim_idle_ms: fast}", "consumer.claim_idle_ms"),
            ("consumer: {handler_timeout_ms: 1.5}", "consumer.handler_timeout_ms"),
            ("consumer: {backoff: {jitter: high}}", "consumer.backoff.jitter"),
        ] {
            let yaml = "name: a\nredis: redis://h\nbiomes: [1]\n\(consumer)\n"
            do {
                _ = try RegionConfig.parse(yaml: yaml, file: "a.yaml", validation: .exceptConsumerTuning)
                Issue.record("accepted \(consumer)")
            } catch {
                #expect(error.key == key, "\(error)")
            }
        }
    }

    @Test("a biome in two regions and a duplicate name are rejected, naming both files")
    func crossRegionConflicts() throws {
        let a = try RegionConfig.parse(yaml: "name: a\nredis: redis://h\nbiomes: [1, 2]\n", file: "a.yaml")
        let b = try RegionConfig.parse(yaml: "name: b\nredis: redis://h\nbiomes: [3, 2]\n", file: "b.yaml")
        let c = try RegionConfig.parse(yaml: "name: a\nredis: redis://h\nbiomes: [9]\n", file: "c.yaml")
        #expect(throws: ConfigFileError.self) { try RegionCatalog(regions: [a, b]) }
        do {
            _ = try RegionCatalog(regions: [a, b])
        } catch {
            #expect(error.file == "b.yaml" && error.key == "biomes" && error.message.contains("a.yaml"))
        }
        do {
            _ = try RegionCatalog(regions: [a, c])
            Issue.record("duplicate name accepted")
        } catch {
            #expect(error.file == "c.yaml" && error.key == "name" && error.message.contains("a.yaml"))
        }
    }

    @Test("the catalog routes biomes to regions and lists distinct Redis servers")
    func catalog() throws {
        let a = try RegionConfig.parse(yaml: "name: a\nredis: redis://h:1/0\nbiomes: [1, 2]\n", file: "a.yaml")
        let b = try RegionConfig.parse(yaml: "name: b\nredis: redis://h:1/0\nbiomes: [3]\n", file: "b.yaml")
        let c = try RegionConfig.parse(yaml: "name: c\nredis: redis://h:2/0\nbiomes: [4]\n", file: "c.yaml")
        let catalog = try RegionCatalog(regions: [a, b, c])
        #expect(catalog.regionIndex(of: BiomeID(3)!) == 1)
        #expect(catalog.regionIndex(of: BiomeID(5)!) == nil)
        #expect(catalog.redisAddresses.map(\.port) == [1, 2])
        #expect(catalog.allBiomes.map(\.biome.value) == [1, 2, 3, 4])
    }

    @Test("Redis URLs")
    func redisURLs() throws {
        #expect(
            try RedisAddress(url: "redis://10.0.0.1:6380/2") == RedisAddress(host: "10.0.0.1", port: 6380, database: 2))
        #expect(
            try RedisAddress(url: "redis://:s3cret@h/1") == RedisAddress(host: "h", database: 1, password: "s3cret"))
        #expect(try RedisAddress(url: "redis://[::1]:7000") == RedisAddress(host: "::1", port: 7000))
        #expect(try RedisAddress(url: "redis://:pw@h").description == "redis://:***@h:6379/0")
        for bad in ["http://h", "redis://", "redis://h:x", "redis://h/x", "redis://h:0"] {
            #expect(throws: RedisAddressError.self) { try RedisAddress(url: bad) }
        }
    }
}

@Suite("Region files written back")
struct RegionYAMLTests {
    @Test("a region renders to YAML that parses back to the same region")
    func roundTrip() throws {
        var region = try RegionConfig.parse(
            yaml: "name: a\nredis: redis://:pw@h:7000/3\nbiomes: [5, 9]\n", file: "a.yaml")
        region.stream.maxlen = 123
        region.consumer.backoff.jitter = 0.5
        region.consumer.handlerTimeoutMs = 1234
        let again = try RegionConfig.parse(yaml: region.yaml, file: "a.yaml")
        #expect(again == region)
    }

    @Test(
        "passwords with # : @ %, IPv6 hosts and names YAML 1.1 reads as bools come back as written",
        arguments: [
            ("no", RedisAddress(host: "h", password: "p#ss"), "yes"),
            ("on", RedisAddress(host: "::1", port: 7000, database: 2, password: ":@#%"), "on"),
            ("y", RedisAddress(host: "fe80::1", username: "a#b", password: "x: #y"), "1e3"),
            ("null", RedisAddress(host: "10.0.0.1", username: "u", password: ""), "true"),
            ("off", RedisAddress(host: "h"), "0x1F"),
        ])
    func trickyRoundTrip(name: String, redis: RedisAddress, group: String) throws {
        var region = RegionConfig(name: name, redis: redis, biomes: [BiomeID(7)!, BiomeID(0)!], sourceFile: "a.yaml")
        region.consumer.group = group
        region.stream.memoryHighWater = 0.25
        region.consumer.backoff.multiplier = 1.5
        let again = try RegionConfig.parse(yaml: region.yaml, file: "a.yaml")
        #expect(again == region)
    }

    @Test("the written file is the familiar shape: block mappings, flow biomes and backoff")
    func shape() throws {
        let region = RegionConfig(name: "no", redis: RedisAddress(host: "h"), biomes: [BiomeID(1)!, BiomeID(53)!])
        let lines = region.yaml.split(separator: "\n")
        #expect(lines.prefix(4) == ["name: \"no\"", "redis: redis://h:6379/0", "biomes: [1, 53]", "stream:"])
        #expect(lines.contains("  backoff: {initial_ms: 100, multiplier: 2.0, max_ms: 8000, jitter: 0.2}"))
        #expect(lines.contains("  idempotency_ttl_s: 86400"))
        #expect(lines.contains("  durability: {replicas: 0, timeout_ms: 200}"))
        #expect(lines.count == 16 && region.yaml.hasSuffix("handler_timeout_ms: 5000\n"))
    }
}
