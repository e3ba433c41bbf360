import BusDomain
import BusLoop
import BusOps
import BusRedis
import BusRegions
import BusStreams
import BusTesting
import Foundation
import Testing

@testable import BusGateway

/// A loop on its own thread with a connection to one Redis and the gateway's coalescer of
/// keyed spawns over it; stopped and joined on release.
private final class CoalescerFixture: @unchecked Sendable {
    // @unchecked Sendable: `connection`, `calls` and `pipeline` are made and used only on the
    // loop (inside `waitFor`); `thread` only in init and deinit.
    let loop = EventLoop(name: "keyed-calls-test")
    private let thread: LoopThread
    let catalog: RegionCatalog
    var connection: RedisConnection!
    var calls: KeyedSpawnCalls!
    var pipeline: SpawnPipeline

    init(redis: RedisServerProcess, maxOutstanding: Int = 1024) throws {
        catalog = try RegionCatalog(regions: [
            RegionConfig(name: "north", redis: try RedisAddress(url: redis.url), biomes: [BiomeID(7)!, BiomeID(8)!])
        ])
        pipeline = SpawnPipeline(
            catalog: catalog, control: RegionControl(regions: 1), chestIDs: ChestIDGenerator(processTag: "t", worker: 0)
        )
        thread = LoopThread(loop: loop)
        thread.start()
        var configuration = RedisConnectionConfiguration(host: "127.0.0.1", port: redis.port)
        configuration.maxOutstanding = maxOutstanding
        // Connected and idle before the test adds spawns: nothing else counts against the cap.
        let ping = try loop.waitFor(timeout: .seconds(10)) { [self, configuration] complete in
            connection = RedisConnection(loop: loop, configuration: configuration)
            calls = KeyedSpawnCalls(
                loop: loop, regions: catalog.regions, connections: [connection], connectionOfRegion: [0])
            connection.start()
            connection.send(RedisCommand("PING")) { complete($0.map(\.string)) }
        }
        #expect(try ping.get() == "PONG")
    }

    deinit {
        _ = try? loop.waitFor(timeout: .seconds(10)) { [self] complete in
            connection?.close()
            complete(true)
        }
        loop.stop()
        thread.join()
    }

    /// Adds one keyed spawn per (biome, key) in one loop callback; answers each one's outcome,
    /// in the order given.
    func addInOnePass(_ spawns: [(biome: Int, key: String)]) throws -> [Result<
        IdempotentAppend.Outcome, RedisError
    >] {
        try loop.waitFor(timeout: .seconds(20)) { [self] complete in
            var outcomes: [Result<IdempotentAppend.Outcome, RedisError>?] = Array(repeating: nil, count: spawns.count)
            var remaining = spawns.count
            for (index, spawn) in spawns.enumerated() {
                let event = try! SpawnEvent.decode(
                    body: Array(#"{"biome_id": \#(spawn.biome), "type": "chest", "coords": [1, 2]}"#.utf8)
                ).get()
                let (planned, _) = pipeline.plan(
                    event, key: IdempotencyKey(spawn.key)!, client: nil, receivedAt: 1_700_000_000_000)
                guard case .success(let append) = planned, case .keyed(let call, _) = append.work else {
                    preconditionFailure("a keyed append")
                }
                calls.add(
                    KeyedSpawnCalls.Waiting(append: append, call: call) { outcome in
                        outcomes[index] = outcome
                        remaining -= 1
                        if remaining == 0 { complete(outcomes.map { $0! }) }
                    })
            }
        }
    }
}

@Suite("Gateway: keyed spawns of one loop pass go out as one script call per region")
struct KeyedSpawnCallsTests {
    private static func evalshaCalls(_ redis: RedisServerProcess) throws -> Int {
        let stats = try redis.cli("INFO", "commandstats")
        guard
            let line = stats.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("cmdstat_evalsha:calls=") }
            ),
            let value = line.dropFirst("cmdstat_evalsha:calls=".count).split(separator: ",").first
        else { return 0 }
        return Int(value) ?? 0
    }

    private static func loadScript(_ redis: RedisServerProcess) throws {
        try redis.cli("SCRIPT", "LOAD", IdempotentAppendCall.script.source)
        try redis.cli("CONFIG", "RESETSTAT")
    }

    @Test("six spawns of two biomes in one pass: one EVALSHA; each spawn its own outcome, same keys replayed")
    func onePassOneCall() throws {
        let redis = try RedisServerProcess.temporary()
        let fixture = try CoalescerFixture(redis: redis)
        try Self.loadScript(redis)
        let outcomes = try fixture.addInOnePass([
            (7, "a"), (8, "a"), (7, "b"), (7, "a"), (8, "c"), (7, "b"),
        ]).map { try $0.get() }
        #expect(try Self.evalshaCalls(redis) == 1)
        let seven = try redis.entries("EVSTREAM:7").map(\.id)
        let eight = try redis.entries("EVSTREAM:8").map(\.id)
        #expect(seven.count == 2 && eight.count == 2)
        let ids = outcomes.map { outcome -> String? in
            switch outcome {
            case .appended(let id, _), .replayed(let id, _): id
            case .reused: nil
            }
        }
        #expect(ids == [seven[0], eight[0], seven[1], seven[0], eight[1], seven[1]])
        #expect(outcomes.map(\.isReplay) == [false, false, false, true, false, true])
    }

    @Test("more spawns than one call holds: calls of at most 128, in order")
    func chunked() throws {
        let redis = try RedisServerProcess.temporary()
        let fixture = try CoalescerFixture(redis: redis)
        try Self.loadScript(redis)
        let spawns = (0..<130).map { (biome: 7, key: "k-\($0)") }
        let outcomes = try fixture.addInOnePass(spawns).map { try $0.get() }
        #expect(try Self.evalshaCalls(redis) == 2)
        #expect(outcomes.allSatisfy { !$0.isReplay })
        let entries = try redis.entries("EVSTREAM:7").map(\.id)
        #expect(
            outcomes.map {
                if case .appended(let id, _) = $0 { id } else { "" }
            } == entries)
    }

    @Test("one call is one command against the connection's cap: a spawn that would open one too many is 503 at once")
    func capCountsCalls() throws {
        let redis = try RedisServerProcess.temporary()
        let fixture = try CoalescerFixture(redis: redis, maxOutstanding: 1)
        try Self.loadScript(redis)
        let results = try fixture.addInOnePass((0..<130).map { (biome: 7, key: "k-\($0)") })
        #expect(results.prefix(128).allSatisfy { (try? $0.get()) != nil })
        #expect(results.suffix(2).allSatisfy { if case .failure(.overloaded) = $0 { true } else { false } })
        #expect(try redis.streamLength("EVSTREAM:7") == 128)
    }
}

@Suite("Gateway: a keyed spawn's entry")
struct KeyedEntryTests {
    @Test("is stored as a plain spawn's: the same fields, names, values and order, with and without a source")
    func storedAsPlain() throws {
        let redis = try RedisServerProcess.temporary()
        let blocking = BlockingRedis()
        defer { blocking.close() }
        let address = try RedisAddress(url: redis.url)
        let client = try blocking.server(address)
        let region = RegionConfig(name: "north", redis: address, biomes: [BiomeID(7)!])
        let event = try SpawnEvent.decode(
            body: Array(#"{"biome_id": 7, "type": "chest", "coords": [1.5, 2, -3]}"#.utf8)
        ).get()
        for source in ["", "gs-1"] {
            let named = source.isEmpty ? nil : source
            let plain = SpawnAppend(
                event: event, stream: "EVSTREAM:7", chestID: "c-1", receivedAt: 5, maxlen: 100, key: nil, scope: .open,
                source: named)
            let keyed = SpawnAppend(
                event: event, stream: "EVSTREAM:7", chestID: "c-1", receivedAt: 5, maxlen: 100,
                key: IdempotencyKey("k\(source)")!,
                scope: .open, source: named)
            guard case .plain(let xadd) = plain, case .keyed(let append, _) = keyed else {
                Issue.record("a plain and a keyed append")
                return
            }
            let plainID = try #require(try client.send(xadd.command).string)
            let call = IdempotentAppendCall(region: region, receivedAt: 5, appends: [append])
            _ = try client.send(RedisCommand("SCRIPT", "LOAD", .string(IdempotentAppendCall.script.source)))
            guard
                case .appended(let keyedID, _) = try call.decode(
                    client.send(call.command(sha: IdempotentAppendCall.script.sha)))[0]
            else {
                Issue.record("the keyed spawn appended")
                return
            }
            func fields(_ id: String) throws -> [String] {
                Array(try redis.cli("XRANGE", "EVSTREAM:7", id, id).split(separator: "\n").dropFirst().map(String.init))
            }
            let expected = ["type", "chest", "coords", "[1.5,2,-3]", "chest_id", "c-1", "ts", "5"]
            #expect(try fields(plainID) == expected + (named.map { ["source", $0] } ?? []))
            #expect(try fields(keyedID) == fields(plainID))
        }
    }
}

extension IdempotentAppend.Outcome {
    fileprivate var isReplay: Bool {
        if case .replayed = self { return true }
        return false
    }
}
