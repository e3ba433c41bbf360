import BusDomain
import BusOps
import BusRedis
import BusStreams
import BusTesting
import Foundation
import Testing

/// The idempotent-append script against a real Redis, through the runner the gateway uses
/// (SCRIPT LOAD once, EVALSHA).
@Suite("Idempotent append script")
struct IdempotentAppendScriptTests {
    private static let biome = BiomeID(7)!

    private static func append(
        key: String, coords: String = "[1,2]", chestID: String = "c-1", ttl: Int = 86400,
        scope: IdempotencyScope = .open
    ) -> IdempotentAppend {
        let key = IdempotencyKey(key)!
        return IdempotentAppend(
            record: IdempotencyKeys.record(biome, scope: scope, key: key), stream: StreamKey.events(biome),
            index: IdempotencyKeys.index(biome), bytes: IdempotencyKeys.bytes(biome), ttlSeconds: ttl,
            fingerprintSource: "7\nchest\n\(coords)\n", indexMember: IdempotencyKeys.member(scope: scope, key: key),
            approximateMaxLength: 1000, chestID: chestID,
            fields: [("type", "chest"), ("coords", coords), ("chest_id", chestID), ("ts", "1")])
    }

    private static func run(_ append: IdempotentAppend, on client: BlockingRedisClient) throws
        -> IdempotentAppend.Outcome
    {
        try IdempotentAppend.decode(
            client.run(IdempotentAppend.script, keys: append.keys, arguments: append.arguments))
    }

    @Test("first call appends and records; the same spawn again replays and writes nothing; another is reused")
    func firstReplayReused() throws {
        let redis = try RedisServerProcess.temporary()
        let client = try BlockingRedisClient(address: try RedisAddress(url: redis.url))
        defer { client.close() }

        let first = try Self.run(Self.append(key: "k-1"), on: client)
        guard case .appended(let id, let chestID) = first else { throw Failure("expected an append, got \(first)") }
        #expect(chestID == "c-1")
        #expect(try redis.entries("EVSTREAM:7").map(\.id) == [id])
        let record = try redis.cli("GET", "EVIDEM:7:_:k-1")
        #expect(record.hasSuffix(" \(id) c-1"))

        let before = try redis.cli("INFO", "commandstats")
        // A retry generated another chest id: the stored one wins.
        #expect(
            try Self.run(Self.append(key: "k-1", chestID: "c-other"), on: client) == .replayed(id: id, chestID: "c-1"))
        #expect(try Self.run(Self.append(key: "k-1", coords: "[9,9]"), on: client) == .reused)
        #expect(try redis.streamLength("EVSTREAM:7") == 1)
        #expect(try redis.cli("GET", "EVIDEM:7:_:k-1") == record, "the record is untouched")
        #expect(Self.xaddCalls(try redis.cli("INFO", "commandstats")) == Self.xaddCalls(before), "no XADD ran")

        // Another scope, or another key, is a new spawn.
        let client2 = try #require(IdempotencyScope(client: "gs-2"))
        #expect(try Self.run(Self.append(key: "k-1", scope: client2), on: client).isAppend)
        #expect(try Self.run(Self.append(key: "k-2"), on: client).isAppend)
        #expect(try redis.streamLength("EVSTREAM:7") == 3)
    }

    @Test("records expire after the TTL; index and byte counter follow and count only live records")
    func ttlAndAccounting() throws {
        let redis = try RedisServerProcess.temporary()
        let client = try BlockingRedisClient(address: try RedisAddress(url: redis.url))
        defer { client.close() }

        #expect(try Self.run(Self.append(key: "long", ttl: 600), on: client).isAppend)
        let ttl = Int(try redis.cli("TTL", "EVIDEM:7:_:long")) ?? -1
        #expect((590...600).contains(ttl), "EX ttl on the record, got \(ttl)")
        #expect(try redis.cli("ZCARD", "EVIDEMIDX:7") == "1")
        let oneRecord = Int(try redis.cli("GET", "EVIDEMBYTES:7")) ?? 0
        let usage = Int(try redis.cli("MEMORY", "USAGE", "EVIDEM:7:_:long")) ?? 0
        #expect(oneRecord == usage + "_:long".utf8.count)
        #expect(Int(try redis.cli("PTTL", "EVIDEMIDX:7")) ?? -1 > 590_000, "the index expires with its newest record")
        #expect(Int(try redis.cli("PTTL", "EVIDEMBYTES:7")) ?? -1 > 590_000)

        #expect(try Self.run(Self.append(key: "short", ttl: 1), on: client).isAppend)
        #expect(try redis.cli("ZCARD", "EVIDEMIDX:7") == "2")
        #expect(Polling.waitUntil(timeout: .seconds(5)) { (try? redis.cli("EXISTS", "EVIDEM:7:_:short")) == "0" })
        // The expired key is new again, and the next write prunes its stale index entry.
        #expect(try Self.run(Self.append(key: "short", coords: "[3,4]", ttl: 600), on: client).isAppend)
        let members = try redis.cli("ZRANGE", "EVIDEMIDX:7", "0", "-1").split(separator: "\n")
        #expect(members.count == 2)
        #expect(members.allSatisfy { $0.hasSuffix(":_:long") || $0.hasSuffix(":_:short") })
        let total = Int(try redis.cli("GET", "EVIDEMBYTES:7")) ?? 0
        let expected = members.map { Int($0.prefix { $0 != ":" })! }.reduce(0, +)
        #expect(total == expected, "the counter is the sum of the indexed sizes")
        #expect(try redis.streamLength("EVSTREAM:7") == 3)
    }

    @Test("an idle biome's records, index and counter all expire")
    func idleBiomeLeavesNothing() throws {
        let redis = try RedisServerProcess.temporary()
        let client = try BlockingRedisClient(address: try RedisAddress(url: redis.url))
        defer { client.close() }
        #expect(try Self.run(Self.append(key: "a", ttl: 1), on: client).isAppend)
        #expect(try Self.run(Self.append(key: "b", ttl: 1), on: client).isAppend)
        #expect(
            Polling.waitUntil(timeout: .seconds(5)) {
                (try? redis.cli("EXISTS", "EVIDEM:7:_:a", "EVIDEM:7:_:b", "EVIDEMIDX:7", "EVIDEMBYTES:7")) == "0"
            })
    }

    @Test("the ops snapshot counts a region's live records and their bytes per biome, without a scan")
    func statusCounts() throws {
        let redis = try RedisServerProcess.temporary()
        let client = try BlockingRedisClient(address: try RedisAddress(url: redis.url))
        defer { client.close() }
        for key in ["a", "b", "c"] { #expect(try Self.run(Self.append(key: key), on: client).isAppend) }
        #expect(try Self.run(Self.append(key: "gone", ttl: 1), on: client).isAppend)
        #expect(Polling.waitUntil(timeout: .seconds(5)) { (try? redis.cli("EXISTS", "EVIDEM:7:_:gone")) == "0" })

        let region = RegionConfig(
            name: "north", redis: try RedisAddress(url: redis.url), biomes: [Self.biome, BiomeID(8)!])
        let probe = StatusProbe(catalog: try RegionCatalog(regions: [region]))
        defer { probe.close() }
        let status = try #require(probe.snapshot().regions.first)
        #expect(status.biomes.map(\.idempotencyKeys) == [3, 0], "the expired record is not counted")
        #expect(status.idempotencyKeys == 3)
        #expect(status.idempotencyBytes == Int64(try redis.cli("GET", "EVIDEMBYTES:7")))
        #expect(status.idempotencyBytes > 0)
        let commands = try redis.cli("INFO", "commandstats")
        #expect(!commands.contains("cmdstat_scan:") && !commands.contains("cmdstat_keys:"))
    }

    @Test("50 concurrent calls with one key: exactly one entry")
    func concurrentSameKey() throws {
        let redis = try RedisServerProcess.temporary()
        let address = try RedisAddress(url: redis.url)
        let clients = try (0..<50).map { _ in try BlockingRedisClient(address: address) }
        defer { for client in clients { client.close() } }
        let start = DispatchSemaphore(value: 0)
        let batch = Concurrently.start(50, width: 50) { index in
            start.wait()
            return Result { try Self.run(Self.append(key: "race", chestID: "c-\(index)"), on: clients[index]) }
        }
        for _ in 0..<50 { start.signal() }
        let outcomes = try batch.wait().map { try $0.get() }
        let appended = outcomes.filter(\.isAppend)
        #expect(appended.count == 1)
        guard case .appended(let id, let chestID) = appended.first else { return }
        #expect(
            outcomes.allSatisfy {
                $0 == .appended(id: id, chestID: chestID) || $0 == .replayed(id: id, chestID: chestID)
            })
        #expect(try redis.streamLength("EVSTREAM:7") == 1)
    }

    private static func xaddCalls(_ stats: String) -> Substring? {
        stats.split(separator: "\n").first { $0.hasPrefix("cmdstat_xadd:") }?.split(separator: ",").first
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
}
