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
            fingerprint: "\(biome)\nchest\n[1,2]\n", chestID: chest, recordBytes: 150,
            fields: StreamEntryFields(fieldCount: source == nil ? 2 : 3) { entry in
                entry.field("type", "chest")
                entry.field("ts", 5)
                if let source { entry.field("source", source) }
            })
    }

    @Test("keys per append, then the call's values, then per append its values and counted field words")
    func arguments() {
        let call = IdempotentAppendCall(
            ttlSeconds: 60, approximateMaxLength: 100,
            statsBucket: .init(bucket: 42, oldestLiveBucket: 26, expiry: 1234),
            appends: [Self.append("a", biome: 7, chest: "c-1"), Self.append("b", biome: 8, chest: "c-2", source: "gs")])
        #expect(
            call.command(sha: "abc").words == [
                "EVALSHA", "abc", "6",
                "EVIDEM:7:_:a", "EVSTREAM:7", "EVIDEMSTAT:7", "EVIDEM:8:_:b", "EVSTREAM:8", "EVIDEMSTAT:8",
                "60", "100", "42", "26", "1234",
                "7\nchest\n[1,2]\n", "c-1", "150", "4", "type", "chest", "ts", "5",
                "8\nchest\n[1,2]\n", "c-2", "150", "6", "type", "chest", "ts", "5", "source", "gs",
            ])
    }

    @Test("an entry's fields encode alike for a plain XADD and a scripted append")
    func fieldsShared() {
        let xadd = XAdd(stream: "s", approximateMaxLength: 1, fieldCount: 2) { entry in
            entry.field("type", "chest")
            entry.field("ts", 5)
        }
        let call = IdempotentAppendCall(
            ttlSeconds: 1, approximateMaxLength: 1, statsBucket: .init(bucket: 0, oldestLiveBucket: 0, expiry: 0),
            appends: [Self.append("a", biome: 7, chest: "c")])
        #expect(Array(xadd.command.words.suffix(4)) == Array(call.command(sha: "x").words.suffix(4)))
    }

    @Test("verdicts decode in order, one per append; a short, long or odd answer is an unexpected reply")
    func decoding() throws {
        func reply(_ words: String...) -> RedisReply { .array(words.map { .bulk(Array($0.utf8)) }) }
        #expect(
            try IdempotentAppendCall.decode(
                reply("appended", "1-0", "c", "reused", "replayed", "1-0", "c"), count: 3) == [
                    .appended(id: "1-0", chestID: "c"), .reused, .replayed(id: "1-0", chestID: "c"),
                ])
        #expect(try IdempotentAppendCall.decode(reply("reused"), count: 1) == [.reused])
        #expect(throws: RedisError.self) { try IdempotentAppendCall.decode(reply("appended"), count: 1) }
        #expect(throws: RedisError.self) { try IdempotentAppendCall.decode(reply("other", "1-0", "c"), count: 1) }
        #expect(throws: RedisError.self) { try IdempotentAppendCall.decode(reply("reused"), count: 2) }
        #expect(throws: RedisError.self) { try IdempotentAppendCall.decode(reply("reused", "reused"), count: 1) }
        #expect(throws: RedisError.self) { try IdempotentAppendCall.decode(.integer(1), count: 1) }
        let failed = IdempotentAppendCall.decode(.failure(.timedOut), count: 2)
        #expect(throws: RedisError.timedOut) { try failed.get() }
    }
}
