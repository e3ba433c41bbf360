import BusStreams
import BusTesting
import Foundation
import Testing

@Suite("Consumer scripts respect entry ownership")
struct ConsumerScriptTests {
    /// An entry delivered to `owner`, plus its id.
    private func pendingEntry(on redis: RedisServerProcess, owner: String) throws -> String {
        try redis.cli("XGROUP", "CREATE", "EVSTREAM:5", "treasure", "0", "MKSTREAM")
        let id = try redis.cli(
            "XADD", "EVSTREAM:5", "*", "type", "chest", "coords", "[1,2]", "chest_id", "o-1", "ts", "1")
        try redis.cli("XREADGROUP", "GROUP", "treasure", owner, "COUNT", "1", "STREAMS", "EVSTREAM:5", ">")
        return id
    }

    @Test("a stalled consumer does not dead-letter an entry another consumer has reclaimed")
    func deadLetterOnlyWhenOwned() throws {
        let redis = try RedisServerProcess.temporary()
        let id = try pendingEntry(on: redis, owner: "survivor")
        let script = StreamScripts.deadLetter.source
        let stalled = try redis.cli(
            ["EVAL", script, "2", "EVDLQ:5", "EVSTREAM:5", "treasure", id, "stalled", "chest_id", "o-1", "error", "x"])
        #expect(stalled == "0")
        #expect(try redis.streamLength("EVDLQ:5") == 0)
        #expect(try redis.pending("EVSTREAM:5", consumer: "survivor") == 1)

        let owner = try redis.cli(
            ["EVAL", script, "2", "EVDLQ:5", "EVSTREAM:5", "treasure", id, "survivor", "chest_id", "o-1", "error", "x"])
        #expect(owner == "1")
        #expect(try redis.streamLength("EVDLQ:5") == 1)
        #expect(try redis.pending("EVSTREAM:5") == 0)
    }

    @Test("a retry re-claims only an entry this consumer still owns")
    func retryOnlyWhenOwned() throws {
        let redis = try RedisServerProcess.temporary()
        let id = try pendingEntry(on: redis, owner: "survivor")
        let script = StreamScripts.claimIfOwned.source
        #expect(try redis.cli(["EVAL", script, "1", "EVSTREAM:5", "treasure", id, "stalled"]).isEmpty)
        #expect(try redis.pending("EVSTREAM:5", consumer: "survivor") == 1)
        #expect(try redis.cli(["EVAL", script, "1", "EVSTREAM:5", "treasure", id, "survivor"]).hasPrefix(id))
        // XCLAIM counted the delivery.
        #expect(try redis.cli("XPENDING", "EVSTREAM:5", "treasure", "-", "+", "1").split(separator: "\n").last == "2")
        // After a transient failure: the id back (JUSTID), the count left alone.
        #expect(try redis.cli(["EVAL", script, "1", "EVSTREAM:5", "treasure", id, "survivor", "0"]) == id)
        #expect(try redis.cli("XPENDING", "EVSTREAM:5", "treasure", "-", "+", "1").split(separator: "\n").last == "2")
        try redis.cli("XTRIM", "EVSTREAM:5", "MAXLEN", "0")
        #expect(try redis.cli(["EVAL", script, "1", "EVSTREAM:5", "treasure", id, "survivor", "0"]).isEmpty)
        #expect(try redis.pending("EVSTREAM:5") == 0, "a trimmed entry leaves the pending list")
    }
}
