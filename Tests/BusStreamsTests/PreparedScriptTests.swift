import BusRedis
import Testing

@testable import BusStreams

/// Records commands and keeps their completions, so a test decides when replies arrive.
private final class HeldRedis {
    var sent: [[String]] = []
    var completions: [(Result<RedisReply, RedisError>) -> Void] = []

    func send(_ command: RedisCommand, _ completion: @escaping (Result<RedisReply, RedisError>) -> Void) {
        sent.append(Self.words(command.encoded))
        completions.append(completion)
    }

    static func words(_ bytes: [UInt8]) -> [String] {
        var words: [String] = []
        var index = bytes.firstIndex(of: 10)! + 1
        while index < bytes.count {
            let lineEnd = bytes[index...].firstIndex(of: 13)!
            let length = Int(String(decoding: bytes[(index + 1)..<lineEnd], as: UTF8.self))!
            let start = lineEnd + 2
            words.append(String(decoding: bytes[start..<(start + length)], as: UTF8.self))
            index = start + length + 2
        }
        return words
    }
}

@Suite("Prepared scripts keep pipelined calls in order")
struct PreparedScriptTests {
    let script = RedisScript(name: "test", keyCount: 1, source: "return 1")

    @Test("the load goes out first, unawaited, and the calls may follow at once by the script's SHA")
    func loadAheadWithoutWaiting() {
        let redis = HeldRedis()
        let prepared = ScriptRunner.prepare(script, send: redis.send)
        #expect(redis.sent == [["SCRIPT", "LOAD", "return 1"]], "the server holds the script for what follows")
        #expect(
            HeldRedis.words(prepared.command(keys: ["k"], arguments: ["a"]).encoded) == [
                "EVALSHA", script.sha, "1", "k", "a",
            ])
    }
}

@Suite("The idempotent-append call's arguments and answers")
struct IdempotentAppendCallTests {
    private static func append(_ key: String, biome: Int, chest: String, source: String? = nil) -> IdempotentAppend {
        IdempotentAppend(
            record: "EVIDEM:\(biome):_:\(key)", stream: "EVSTREAM:\(biome)", stats: "EVIDEMSTAT:\(biome)",
            fingerprint: "\(biome)\nchest\n[1,2]\n", chestID: chest, type: "chest", coordinates: "[1,2]",
            receivedAt: 5, source: source)
    }

    private static func call(_ appends: [IdempotentAppend]) -> IdempotentAppendCall {
        IdempotentAppendCall(
            ttlSeconds: 60, approximateMaxLength: 100,
            statsBucket: .init(bucket: 42, oldestLiveBucket: 26, expiry: 1234, recordOverheadBytes: 80),
            appends: appends)
    }

    @Test(
        "per group its stream, stats hash and records, then the call's values, then per group its count, source and values"
    )
    func arguments() {
        let call = Self.call([
            Self.append("a", biome: 7, chest: "c-1"), Self.append("b", biome: 8, chest: "c-2", source: "gs"),
            Self.append("c", biome: 7, chest: "c-3"),
        ])
        #expect(
            call.command(sha: "abc").words == [
                "EVALSHA", "abc", "7",
                "EVSTREAM:7", "EVIDEMSTAT:7", "EVIDEM:7:_:a", "EVIDEM:7:_:c", "EVSTREAM:8", "EVIDEMSTAT:8",
                "EVIDEM:8:_:b",
                "60", "100", "42", "26", "1234", "80",
                "2", "", "7\nchest\n[1,2]\n", "c-1", "chest", "[1,2]", "5", "7\nchest\n[1,2]\n", "c-3", "chest",
                "[1,2]", "5",
                "1", "gs", "8\nchest\n[1,2]\n", "c-2", "chest", "[1,2]", "5",
            ])
    }

    @Test("one stream with and without a source is two groups")
    func sourceSplitsGroups() {
        let call = Self.call([
            Self.append("a", biome: 7, chest: "c-1"), Self.append("b", biome: 7, chest: "c-2", source: "gs"),
        ])
        let words = call.command(sha: "abc").words
        #expect(
            Array(words[2...8]) == [
                "6", "EVSTREAM:7", "EVIDEMSTAT:7", "EVIDEM:7:_:a", "EVSTREAM:7", "EVIDEMSTAT:7", "EVIDEM:7:_:b",
            ])
    }

    @Test("answers decode back into the call's order: an id appended, a record replays or is reused")
    func decoding() throws {
        func reply(_ words: String...) -> RedisReply { .array(words.map { .bulk(Array($0.utf8)) }) }
        let call = Self.call([
            Self.append("a", biome: 7, chest: "c-1"), Self.append("b", biome: 8, chest: "c-2"),
            Self.append("c", biome: 7, chest: "c-3"),
        ])
        // Run order: a, c (biome 7), then b.
        #expect(
            try call.decode(reply("1-0", "2-0 c-old 7\nchest\n[1,2]\n", "3-0 c-x 8\nchest\n[9,9]\n")) == [
                .appended(id: "1-0", chestID: "c-1"), .reused, .replayed(id: "2-0", chestID: "c-old"),
            ])
        #expect(throws: RedisError.self) { try call.decode(reply("1-0", "2-0")) }
        #expect(throws: RedisError.self) { try call.decode(reply("1-0", "2-0", "3-0", "4-0")) }
        #expect(throws: RedisError.self) { try call.decode(reply("1-0", "2-0 c-only", "3-0")) }
        #expect(throws: RedisError.self) { try call.decode(.integer(1)) }
        let failed = call.decode(.failure(.timedOut))
        #expect(throws: RedisError.timedOut) { try failed.get() }
    }
}
