import BusDomain
import BusOps
import BusRedis
import BusRegions
import BusStreams
import BusTesting
import Foundation
import Testing

/// The idempotent-append script against a real Redis (SCRIPT LOAD, then EVALSHA of the bytes
/// the gateway sends): calls of one append, as a durable spawn sends, and calls of many.
@Suite("Idempotent append script")
struct IdempotentAppendScriptTests {
    private static let biome = BiomeID(7)!

    private static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// The append the gateway makes of a chest spawn in `biome` (see `SpawnAppend`).
    private static func item(
        key: String, biome: Int64 = 7, coords: String = "[1,2]", chestID: String = "c-1",
        scope: IdempotencyScope = .open
    ) -> IdempotentAppend {
        let biome = BiomeID(biome)!
        return IdempotentAppend(
            record: IdempotencyKeys.record(biome, scope: scope, key: IdempotencyKey(key)!),
            stream: StreamKey.events(biome), stats: IdempotencyKeys.stats(biome),
            fingerprint: "\(biome.value)\nchest\n\(coords)\n", chestID: chestID, type: "chest", coordinates: coords,
            receivedAt: 1, source: nil)
    }

    /// A call of `items` at `at` (Unix ms), records kept `ttl` seconds.
    private static func call(
        _ items: [IdempotentAppend], ttl: Int = 86400, maxlen: Int = 1000, at: Int64 = nowMs()
    ) -> IdempotentAppendCall {
        let bucket = IdempotencyAccounting.bucket(nowMs: at, ttlSeconds: ttl)
        return IdempotentAppendCall(
            ttlSeconds: ttl, approximateMaxLength: maxlen,
            statsBucket: .init(
                bucket: bucket, oldestLiveBucket: IdempotencyAccounting.oldestLiveBucket(nowMs: at, ttlSeconds: ttl),
                expiry: IdempotencyAccounting.statsExpiry(bucket: bucket, ttlSeconds: ttl),
                recordOverheadBytes: IdempotencyAccounting.recordOverheadBytes),
            appends: items)
    }

    /// The single append the gateway sends for a durable spawn.
    private static func append(
        key: String, coords: String = "[1,2]", chestID: String = "c-1", ttl: Int = 86400,
        scope: IdempotencyScope = .open, at: Int64 = nowMs()
    ) -> IdempotentAppendCall {
        call([item(key: key, coords: coords, chestID: chestID, scope: scope)], ttl: ttl, at: at)
    }

    private static func run(_ call: IdempotentAppendCall, on client: BlockingRedis.Server) throws
        -> [IdempotentAppend.Outcome]
    {
        _ = try client.send(RedisCommand("SCRIPT", "LOAD", .string(IdempotentAppendCall.script.source)))
        return try call.decode(client.send(call.command(sha: IdempotentAppendCall.script.sha)))
    }

    private static func runOne(_ call: IdempotentAppendCall, on client: BlockingRedis.Server) throws
        -> IdempotentAppend.Outcome
    {
        try run(call, on: client)[0]
    }

    @Test("first call appends and records; the same spawn again replays and writes nothing; another is reused")
    func firstReplayReused() async throws {
        let server = try await ScriptRedis()
        defer { server.close() }
        let (redis, client) = (server.redis, server.client)

        let first = try Self.runOne(Self.append(key: "k-1"), on: client)
        guard case .appended(let id, let chestID) = first else { throw Failure("expected an append, got \(first)") }
        #expect(chestID == "c-1")
        #expect(try redis.entries("EVSTREAM:7").map(\.id) == [id])
        let record = try redis.cli("GET", "EVIDEM:7:_:k-1")
        #expect(record.hasPrefix("\(id) c-1 "))

        let before = try redis.cli("INFO", "commandstats")
        // A retry generated another chest id: the stored one wins.
        #expect(
            try Self.runOne(Self.append(key: "k-1", chestID: "c-other"), on: client)
                == .replayed(id: id, chestID: "c-1"))
        #expect(try Self.runOne(Self.append(key: "k-1", coords: "[9,9]"), on: client) == .reused)
        #expect(try redis.streamLength("EVSTREAM:7") == 1)
        #expect(try redis.cli("GET", "EVIDEM:7:_:k-1") == record, "the record is untouched")
        #expect(Self.xaddCalls(try redis.cli("INFO", "commandstats")) == Self.xaddCalls(before), "no XADD ran")

        // Another scope, or another key, is a new spawn.
        let client2 = try #require(IdempotencyScope(client: "gs-2"))
        #expect(try Self.runOne(Self.append(key: "k-1", scope: client2), on: client).isAppend)
        #expect(try Self.runOne(Self.append(key: "k-2"), on: client).isAppend)
        #expect(try redis.streamLength("EVSTREAM:7") == 3)
    }

    @Test("records expire after the TTL; each new record is counted once in its bucket of the stats hash")
    func ttlAndAccounting() async throws {
        let server = try await ScriptRedis()
        defer { server.close() }
        let (redis, client) = (server.redis, server.client)

        let now = Self.nowMs()
        let bucket = IdempotencyAccounting.bucket(nowMs: now, ttlSeconds: 600)
        #expect(try Self.runOne(Self.append(key: "long", ttl: 600, at: now), on: client).isAppend)
        let ttl = Int(try redis.cli("TTL", "EVIDEM:7:_:long")) ?? -1
        #expect((590...600).contains(ttl), "EX ttl on the record, got \(ttl)")
        #expect(try redis.cli("HGET", "EVIDEMSTAT:7", "\(bucket):keys") == "1")
        let longBytes = try Self.recordBytes("EVIDEM:7:_:long", on: redis)
        #expect(try redis.cli("HGET", "EVIDEMSTAT:7", "\(bucket):bytes") == String(longBytes))
        let expiry = IdempotencyAccounting.statsExpiry(bucket: bucket, ttlSeconds: 600)
        #expect(try redis.cli("EXPIRETIME", "EVIDEMSTAT:7") == String(expiry), "the hash goes with its newest bucket")

        // A replay and a reuse count nothing; another key counts once more.
        #expect(try Self.runOne(Self.append(key: "long", ttl: 600, at: now), on: client).isReplay)
        #expect(try Self.runOne(Self.append(key: "long", coords: "[5,5]", ttl: 600, at: now), on: client) == .reused)
        #expect(try Self.runOne(Self.append(key: "other", ttl: 600, at: now), on: client).isAppend)
        #expect(try redis.cli("HGET", "EVIDEMSTAT:7", "\(bucket):keys") == "2")
        let bothBytes = try longBytes + Self.recordBytes("EVIDEM:7:_:other", on: redis)
        #expect(try redis.cli("HGET", "EVIDEMSTAT:7", "\(bucket):bytes") == String(bothBytes))

        // The first record of a bucket a TTL later drops the buckets whose records have all
        // expired and moves the expiry on; a late writer's older bucket never moves it back.
        let later = now + 700_000
        let laterBucket = IdempotencyAccounting.bucket(nowMs: later, ttlSeconds: 600)
        #expect(try Self.runOne(Self.append(key: "new", ttl: 600, at: later), on: client).isAppend)
        let fields = Set(try redis.cli("HKEYS", "EVIDEMSTAT:7").split(separator: "\n").map(String.init))
        #expect(fields == ["\(laterBucket):keys", "\(laterBucket):bytes"])
        let laterExpiry = IdempotencyAccounting.statsExpiry(bucket: laterBucket, ttlSeconds: 600)
        #expect(try redis.cli("EXPIRETIME", "EVIDEMSTAT:7") == String(laterExpiry))
        #expect(try Self.runOne(Self.append(key: "late", ttl: 600, at: now + 1000), on: client).isAppend)
        #expect(try redis.cli("EXPIRETIME", "EVIDEMSTAT:7") == String(laterExpiry))

        #expect(try Self.runOne(Self.append(key: "short", ttl: 1), on: client).isAppend)
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(5)) { (try? redis.cli("EXISTS", "EVIDEM:7:_:short")) == "0" }
        )
        // The expired key is new again.
        #expect(try Self.runOne(Self.append(key: "short", coords: "[3,4]", ttl: 1), on: client).isAppend)
        #expect(try redis.streamLength("EVSTREAM:7") == 6)
    }

    @Test("an idle biome's records and stats all expire")
    func idleBiomeLeavesNothing() async throws {
        let server = try await ScriptRedis()
        defer { server.close() }
        let (redis, client) = (server.redis, server.client)
        #expect(try Self.runOne(Self.append(key: "a", ttl: 1), on: client).isAppend)
        #expect(try Self.runOne(Self.append(key: "b", ttl: 1), on: client).isAppend)
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(6)) {
                (try? redis.cli("EXISTS", "EVIDEM:7:_:a", "EVIDEM:7:_:b", "EVIDEMSTAT:7")) == "0"
            })
    }

    @Test("the ops snapshot counts a region's live records and their bytes per biome, without a scan")
    func statusCounts() async throws {
        let server = try await ScriptRedis()
        defer { server.close() }
        let (redis, client) = (server.redis, server.client)
        for key in ["a", "b", "c"] { #expect(try Self.runOne(Self.append(key: key), on: client).isAppend) }
        // A bucket older than the TTL (left by a clock far behind): not counted.
        try redis.cli("HSET", "EVIDEMSTAT:7", "1:keys", "9", "1:bytes", "900")

        let region = RegionConfig(
            name: "north", redis: try RedisAddress(url: redis.url), biomes: [Self.biome, BiomeID(8)!])
        let probe = StatusProbe(catalog: try RegionCatalog(regions: [region]))
        defer { probe.close() }
        let status = try #require(probe.snapshot().regions.first)
        #expect(status.biomes.map(\.idempotencyKeys) == [3, 0])
        #expect(status.idempotencyKeys == 3)
        let bytes = try ["a", "b", "c"].reduce(0) { $0 + (try Self.recordBytes("EVIDEM:7:_:\($1)", on: redis)) }
        #expect(status.idempotencyBytes == Int64(bytes))
        let commands = try redis.cli("INFO", "commandstats")
        #expect(!commands.contains("cmdstat_scan:") && !commands.contains("cmdstat_keys:"))
    }

    @Test("50 concurrent calls with one key: exactly one entry")
    func concurrentSameKey() async throws {
        let redis = try await RedisServerProcess.temporary()
        let address = try RedisAddress(url: redis.url)
        let redises = (0..<50).map { _ in BlockingRedis() }
        defer { for redis in redises { redis.close() } }
        let clients = try redises.map { try $0.server(address) }
        let start = DispatchSemaphore(value: 0)
        let batch = Concurrently.start(50, width: 50) { index in
            start.wait()
            return Result { try Self.runOne(Self.append(key: "race", chestID: "c-\(index)"), on: clients[index]) }
        }
        for _ in 0..<50 { start.signal() }
        let outcomes = try await batch.wait().map { try $0.get() }
        let appended = outcomes.filter(\.isAppend)
        #expect(appended.count == 1)
        guard case .appended(let id, let chestID) = appended.first else { return }
        #expect(
            outcomes.allSatisfy {
                $0 == .appended(id: id, chestID: chestID) || $0 == .replayed(id: id, chestID: chestID)
            })
        #expect(try redis.streamLength("EVSTREAM:7") == 1)
    }

    @Test("one call of many: new, replayed and reused in order; a key twice in one call appends once")
    func manyInOneCall() async throws {
        let server = try await ScriptRedis()
        defer { server.close() }
        let (redis, client) = (server.redis, server.client)
        let earlier = try Self.runOne(Self.append(key: "old", chestID: "c-old"), on: client)
        guard case .appended(let oldID, _) = earlier else { throw Failure("expected an append, got \(earlier)") }

        let outcomes = try Self.run(
            Self.call([
                Self.item(key: "new", chestID: "c-new"),
                Self.item(key: "old", chestID: "c-retry"),
                Self.item(key: "old", coords: "[9,9]"),
                Self.item(key: "twice", chestID: "c-first"),
                Self.item(key: "twice", chestID: "c-second"),
                Self.item(key: "clash", chestID: "c-clash"),
                Self.item(key: "clash", coords: "[5,5]"),
            ]), on: client)
        let entries = try redis.entries("EVSTREAM:7")
        #expect(entries.map { $0.fields["chest_id"] } == ["c-old", "c-new", "c-first", "c-clash"])
        #expect(
            outcomes == [
                .appended(id: entries[1].id, chestID: "c-new"), .replayed(id: oldID, chestID: "c-old"), .reused,
                .appended(id: entries[2].id, chestID: "c-first"), .replayed(id: entries[2].id, chestID: "c-first"),
                .appended(id: entries[3].id, chestID: "c-clash"), .reused,
            ])
        #expect(try redis.cli("GET", "EVIDEM:7:_:twice").hasPrefix("\(entries[2].id) c-first "))
    }

    @Test("each call trims its streams to about maxlen, whether a group's last append appended or replayed")
    func trimsOncePerGroup() async throws {
        let server = try await ScriptRedis()
        defer { server.close() }
        let (redis, client) = (server.redis, server.client)
        // Small nodes, so that `MAXLEN ~ 10` trims down to at most 10 + 5 entries.
        try redis.cli("CONFIG", "SET", "stream-node-max-entries", "5")
        let first = (0..<30).map { Self.item(key: "k-\($0)", chestID: "c-\($0)") }
        _ = try Self.run(Self.call(first, maxlen: 10), on: client)
        #expect((10...15).contains(try redis.streamLength("EVSTREAM:7")), "trimmed by the last append's XADD")

        // The group's last append is a replay: the XTRIM after the group trims instead.
        let second = (30..<50).map { Self.item(key: "k-\($0)", chestID: "c-\($0)") } + [first[0]]
        let outcomes = try Self.run(Self.call(second, maxlen: 10), on: client)
        #expect(outcomes.last?.isReplay == true)
        #expect((10...15).contains(try redis.streamLength("EVSTREAM:7")), "trimmed by XTRIM")
        #expect(try redis.entries("EVSTREAM:7").last?.fields["chest_id"] == "c-49")
    }

    @Test("one call counts each biome's new records once, in one HINCRBY pair per biome")
    func statsPerBiome() async throws {
        let server = try await ScriptRedis()
        defer { server.close() }
        let (redis, client) = (server.redis, server.client)
        let now = Self.nowMs()
        let bucket = IdempotencyAccounting.bucket(nowMs: now, ttlSeconds: 600)
        _ = try redis.cli("CONFIG", "RESETSTAT")
        let outcomes = try Self.run(
            Self.call(
                [
                    Self.item(key: "a", biome: 7), Self.item(key: "a", biome: 8), Self.item(key: "b", biome: 7),
                    Self.item(key: "a", biome: 7), Self.item(key: "c", biome: 7), Self.item(key: "b", biome: 9),
                ], ttl: 600, at: now), on: client)
        #expect(outcomes.map(\.isAppend) == [true, true, true, false, true, true])
        for (biome, keys) in [(7, ["a", "b", "c"]), (8, ["a"]), (9, ["b"])] {
            let bytes = try keys.reduce(0) { $0 + (try Self.recordBytes("EVIDEM:\(biome):_:\($1)", on: redis)) }
            #expect(try redis.cli("HGET", "EVIDEMSTAT:\(biome)", "\(bucket):keys") == String(keys.count))
            #expect(try redis.cli("HGET", "EVIDEMSTAT:\(biome)", "\(bucket):bytes") == String(bytes))
        }
        let stats = try redis.cli("INFO", "commandstats")
        #expect(Self.calls("hincrby", stats) == 6, "two per biome, not two per record")
        #expect(Self.calls("xadd", stats) == 5)
    }

    @Test("the first records of a bucket drop each biome's expired buckets and move each hash's expiry, once")
    func housekeepingPerBiome() async throws {
        let server = try await ScriptRedis()
        defer { server.close() }
        let (redis, client) = (server.redis, server.client)
        let now = Self.nowMs()
        let bucket = IdempotencyAccounting.bucket(nowMs: now, ttlSeconds: 600)
        // Buckets left from long ago, and one still live, in two biomes' hashes.
        for biome in [7, 8] {
            try redis.cli("HSET", "EVIDEMSTAT:\(biome)", "1:keys", "9", "1:bytes", "900", "2:keys", "1")
            try redis.cli("HSET", "EVIDEMSTAT:\(biome)", "\(bucket - 1):keys", "4", "\(bucket - 1):bytes", "400")
        }
        _ = try redis.cli("CONFIG", "RESETSTAT")
        let items = [Self.item(key: "a", biome: 7), Self.item(key: "a", biome: 8), Self.item(key: "b", biome: 8)]
        _ = try Self.run(Self.call(items, ttl: 600, at: now), on: client)
        #expect(Self.calls("hkeys", try redis.cli("INFO", "commandstats")) == 2, "one scan per biome")
        let expiry = IdempotencyAccounting.statsExpiry(bucket: bucket, ttlSeconds: 600)
        for biome in [7, 8] {
            let fields = Set(try redis.cli("HKEYS", "EVIDEMSTAT:\(biome)").split(separator: "\n").map(String.init))
            #expect(fields == ["\(bucket - 1):keys", "\(bucket - 1):bytes", "\(bucket):keys", "\(bucket):bytes"])
            #expect(try redis.cli("EXPIRETIME", "EVIDEMSTAT:\(biome)") == String(expiry))
        }
        // More records of the same bucket scan nothing.
        let more = [Self.item(key: "c", biome: 7), Self.item(key: "c", biome: 8)]
        _ = try Self.run(Self.call(more, ttl: 600, at: now), on: client)
        #expect(Self.calls("hkeys", try redis.cli("INFO", "commandstats")) == 4, "the two scans and the test's two")
        #expect(try redis.cli("HGET", "EVIDEMSTAT:8", "\(bucket):keys") == "3")
    }

    /// What the stats count for the record `key`: its key and value bytes and the fixed overhead.
    private static func recordBytes(_ key: String, on redis: RedisServerProcess) throws -> Int {
        key.utf8.count + (Int(try redis.cli("STRLEN", key)) ?? -1_000_000) + IdempotencyAccounting.recordOverheadBytes
    }

    /// `calls=` of `command` in `INFO commandstats` (0 when never called).
    private static func calls(_ command: String, _ stats: String) -> Int {
        guard
            let line = stats.split(whereSeparator: \.isNewline).first(where: {
                $0.hasPrefix("cmdstat_\(command):calls=")
            }),
            let value = line.dropFirst("cmdstat_\(command):calls=".count).split(separator: ",").first
        else { return 0 }
        return Int(value) ?? 0
    }

    private static func xaddCalls(_ stats: String) -> Substring? {
        stats.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_xadd:") }?.split(separator: ",").first
    }

    private struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

extension IdempotentAppend.Outcome {
    fileprivate var isAppend: Bool {
        if case .appended = self { return true }
        return false
    }

    fileprivate var isReplay: Bool {
        if case .replayed = self { return true }
        return false
    }
}

/// A Redis of its own and one blocking client on it, for one test; `close()` it when done.
private struct ScriptRedis {
    let redis: RedisServerProcess
    let client: BlockingRedis.Server
    private let blocking: BlockingRedis

    init() async throws {
        redis = try await RedisServerProcess.temporary()
        blocking = BlockingRedis()
        client = try blocking.server(try RedisAddress(url: redis.url))
    }

    func close() { blocking.close() }
}
