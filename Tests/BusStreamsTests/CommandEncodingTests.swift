import BusRedis
import Testing

@testable import BusStreams

@Suite("Encoding stream commands")
struct CommandEncodingTests {
    /// The RESP bytes of a command written as its argument list.
    private func resp(_ arguments: [String]) -> [UInt8] {
        RedisCommand(arguments.map { .string($0) }).encoded
    }

    @Test("XADD: MAXLEN ~ n *, then the fields in the order written")
    func xadd() {
        let xadd = XAdd(stream: "EVSTREAM:53", approximateMaxLength: 1000, fieldCount: 4) { entry in
            entry.field(RedisEncodedWords("type"), "gold")
            entry.field(RedisEncodedWords("coords"), "[1,2]")
            entry.field(RedisEncodedWords("chest_id"), "c-1")
            entry.field(RedisEncodedWords("ts"), 1_700_000_000_123)
        }
        #expect(xadd.command.name == "XADD")
        #expect(
            xadd.command.encoded
                == resp([
                    "XADD", "EVSTREAM:53", "MAXLEN", "~", "1000", "*", "type", "gold", "coords", "[1,2]", "chest_id",
                    "c-1", "ts", "1700000000123",
                ]))
    }

    @Test("XREADGROUP: COUNT, BLOCK, the streams, then one > per stream")
    func readGroup() {
        let command = XReadGroup(group: "treasure", consumer: "c1", count: 5, blockMs: 2000, streams: ["a", "b"])
        #expect(command.command.name == "XREADGROUP")
        #expect(
            command.command.encoded
                == resp([
                    "XREADGROUP", "GROUP", "treasure", "c1", "COUNT", "5", "BLOCK", "2000", "STREAMS", "a", "b", ">",
                    ">",
                ]))
    }

    @Test("the other commands")
    func others() {
        #expect(
            XAck(stream: "s", group: "g", ids: ["1-0", "2-0"]).command.encoded
                == resp(["XACK", "s", "g", "1-0", "2-0"]))
        #expect(
            XGroupCreate(stream: "s", group: "g").command.encoded
                == resp(["XGROUP", "CREATE", "s", "g", "0", "MKSTREAM"]))
        #expect(
            XAutoClaim(stream: "s", group: "g", consumer: "c", minIdleMs: 30000, start: "0-0", count: 7).command.encoded
                == resp(["XAUTOCLAIM", "s", "g", "c", "30000", "0-0", "COUNT", "7"]))
        #expect(XPendingSummary(stream: "s", group: "g").command.encoded == resp(["XPENDING", "s", "g"]))
        #expect(
            XPendingRange(stream: "s", group: "g", start: "1-0", end: "1-0", count: 1).command.encoded
                == resp(["XPENDING", "s", "g", "1-0", "1-0", "1"]))
        #expect(XInfoGroups(stream: "s").command.encoded == resp(["XINFO", "GROUPS", "s"]))
        #expect(XLen(stream: "s").command.encoded == resp(["XLEN", "s"]))
        #expect(XRange(stream: "s").command.encoded == resp(["XRANGE", "s", "-", "+"]))
        #expect(InfoMemory().command.encoded == resp(["INFO", "memory"]))
    }
}
