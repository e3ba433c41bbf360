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

@Suite("The idempotent append's arguments and answers")
struct IdempotentAppendTests {
    @Test("keys and arguments in the script's order, fields last")
    func arguments() {
        let append = IdempotentAppend(
            record: "EVIDEM:7:_:k", stream: "EVSTREAM:7", stats: "EVIDEMSTAT:7", ttlSeconds: 60,
            fingerprint: "7\nchest\n[1,2]\n", approximateMaxLength: 100, chestID: "c-1", bucket: 42, recordBytes: 150,
            oldestLiveBucket: 26, statsExpiry: 1234, fields: [("type", "chest"), ("chest_id", "c-1")])
        #expect(append.keys == ["EVIDEM:7:_:k", "EVSTREAM:7", "EVIDEMSTAT:7"])
        let words = HeldRedis.words(
            PreparedScript(script: IdempotentAppend.script).command(
                keys: append.keys, arguments: append.arguments
            ).encoded)
        #expect(
            Array(words.dropFirst(6))
                == [
                    "60", "7\nchest\n[1,2]\n", "100", "c-1", "42", "150", "26", "1234", "type", "chest", "chest_id",
                    "c-1",
                ])
    }

    @Test("verdicts decode; anything else is an unexpected reply")
    func decoding() throws {
        func reply(_ words: String...) -> RedisReply { .array(words.map { .bulk(Array($0.utf8)) }) }
        #expect(try IdempotentAppend.decode(reply("appended", "1-0", "c")) == .appended(id: "1-0", chestID: "c"))
        #expect(try IdempotentAppend.decode(reply("replayed", "1-0", "c")) == .replayed(id: "1-0", chestID: "c"))
        #expect(try IdempotentAppend.decode(reply("reused")) == .reused)
        #expect(throws: RedisError.self) { try IdempotentAppend.decode(reply("appended")) }
        #expect(throws: RedisError.self) { try IdempotentAppend.decode(reply("other", "1-0", "c")) }
        #expect(throws: RedisError.self) { try IdempotentAppend.decode(.integer(1)) }
    }
}

@Suite("The idempotent append's hot-path encoding")
struct IdempotentAppendEncodingTests {
    @Test("command(sha:) writes the same bytes as EVALSHA over keys and arguments")
    func sameBytes() {
        let append = IdempotentAppend(
            record: "EVIDEM:7:_:k", stream: "EVSTREAM:7", stats: "EVIDEMSTAT:7", ttlSeconds: 60, fingerprint: "f",
            approximateMaxLength: 100, chestID: "c", bucket: 1, recordBytes: 2, oldestLiveBucket: -3, statsExpiry: 4,
            fields: [("type", "chest"), ("ts", "5")])
        let general = PreparedScript(script: IdempotentAppend.script).command(
            keys: append.keys, arguments: append.arguments)
        #expect(append.command(sha: IdempotentAppend.script.sha).encoded == general.encoded)
    }
}
