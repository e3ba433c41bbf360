import BusRedis
import Testing

@testable import BusStreams

/// Fixtures are `RedisReply` values shaped as Redis 7 answers them.
private func bulk(_ text: String) -> RedisReply { .bulk(Array(text.utf8)) }
private func entry(_ id: String, _ fields: [String]) -> RedisReply {
    .array([bulk(id), .array(fields.map(bulk))])
}

@Suite("Decoding stream replies")
struct ReplyDecodingTests {
    @Test("XREADGROUP: entries per stream; null when BLOCK timed out")
    func readGroup() throws {
        let reply: RedisReply = .array([
            .array([bulk("EVSTREAM:5"), .array([entry("1-0", ["type", "gold"]), entry("1-1", ["a", "b"])])]),
            .array([bulk("EVSTREAM:7"), .array([.array([bulk("2-0"), .null])])]),
        ])
        let result = try ReadGroupResult(reply: reply)
        #expect(
            result.batches == [
                .init(
                    stream: "EVSTREAM:5",
                    entries: [.init(id: "1-0", fields: ["type": "gold"]), .init(id: "1-1", fields: ["a": "b"])]),
                .init(stream: "EVSTREAM:7", entries: [.init(id: "2-0", fields: nil)]),
            ])
        #expect(try ReadGroupResult(reply: .null).batches.isEmpty)
        #expect(throws: RedisError.self) { try ReadGroupResult(reply: .integer(1)) }
    }

    @Test("an entry deleted meanwhile has nil fields")
    func deletedEntry() {
        #expect(StreamEntry(reply: .array([bulk("3-0"), .null])) == StreamEntry(id: "3-0", fields: nil))
        #expect(StreamEntry(reply: .array([bulk("3-0")])) == nil)
        #expect(StreamEntry(reply: entry("3-1", ["k", "v", "k", "w"]))?.fields == ["k": "w"], "later duplicates win")
    }

    @Test("XAUTOCLAIM: cursor, entries, deleted ids (Redis 7) or none (Redis 6.2)")
    func autoClaim() throws {
        let seven: RedisReply = .array([
            bulk("5-0"), .array([entry("4-0", ["x", "1"]), .array([bulk("4-1"), .null])]),
            .array([bulk("3-9"), bulk("3-8")]),
        ])
        let claimed = try AutoClaimResult(reply: seven)
        #expect(claimed.cursor == "5-0")
        #expect(claimed.entries == [.init(id: "4-0", fields: ["x": "1"]), .init(id: "4-1", fields: nil)])
        #expect(claimed.deletedIDs == ["3-9", "3-8"])
        let sixTwo = try AutoClaimResult(reply: .array([bulk("0-0"), .array([])]))
        #expect(sixTwo == AutoClaimResult(cursor: "0-0", entries: [], deletedIDs: []))
        #expect(throws: RedisError.self) { try AutoClaimResult(reply: .null) }
    }

    @Test("XPENDING summary, with and without pending entries")
    func pendingSummary() throws {
        let summary = try PendingSummary(
            reply: .array([
                .integer(3), bulk("1700000000000-0"), bulk("1700000000500-2"),
                .array([.array([bulk("c1"), bulk("2")]), .array([bulk("c2"), bulk("1")])]),
            ]))
        #expect(summary.count == 3)
        #expect(summary.smallestID == "1700000000000-0" && summary.greatestID == "1700000000500-2")
        #expect(summary.consumers == ["c1": 2, "c2": 1])
        #expect(summary.oldestMilliseconds == 1_700_000_000_000)
        let empty = try PendingSummary(reply: .array([.integer(0), .null, .null, .null]))
        #expect(empty == PendingSummary(count: 0, smallestID: nil, greatestID: nil, consumers: [:]))
        #expect(empty.oldestMilliseconds == nil)
    }

    @Test("XPENDING range rows")
    func pendingRange() throws {
        let rows = try PendingEntry.list(
            .array([
                .array([bulk("1-0"), bulk("c1"), .integer(1500), .integer(3)]),
                .array([bulk("1-1"), bulk("c1")]),
            ]))
        #expect(rows == [PendingEntry(id: "1-0", consumer: "c1", idleMs: 1500, deliveries: 3)])
        #expect(try PendingEntry.list(.array([])).isEmpty)
    }

    @Test("XINFO GROUPS rows, with and without a known lag")
    func groups() throws {
        let row: RedisReply = .array([
            bulk("name"), bulk("treasure"), bulk("consumers"), .integer(2),
            bulk("pending"), .integer(5), bulk("lag"), .integer(7),
        ])
        let unknownLag: RedisReply = .array([bulk("name"), bulk("g2"), bulk("lag"), .null])
        let groups = try GroupInfo.list(.array([row, unknownLag, .array([bulk("pending"), .integer(1)])]))
        #expect(
            groups == [
                GroupInfo(name: "treasure", consumers: 2, pending: 5, lag: 7),
                GroupInfo(name: "g2", consumers: 0, pending: 0, lag: nil),
            ])
    }

    @Test("XRANGE entries, oldest first")
    func range() throws {
        let entries = try XRange(stream: "EVDLQ:5").decode(.array([entry("1-0", ["a", "1"]), entry("2-0", [])]))
        #expect(entries == [.init(id: "1-0", fields: ["a": "1"]), .init(id: "2-0", fields: [:])])
        #expect(try XRange(stream: "EVDLQ:5").decode(.array([])).isEmpty)
    }

    @Test("INFO memory text with CRLF line ends")
    func info() throws {
        let memory = try InfoMemory().decode(bulk("# Memory\r\nused_memory:914736\r\nmaxmemory:0\r\n"))
        #expect(memory == MemoryInfo(usedMemory: 914_736, maxMemory: 0))
        #expect(MemoryInfo(text: "") == MemoryInfo(usedMemory: nil, maxMemory: nil))
    }

    @Test("XLEN, XACK and XADD replies")
    func scalars() throws {
        #expect(try XLen(stream: "s").decode(.integer(12)) == 12)
        #expect(try XAck(stream: "s", group: "g", ids: ["1-0"]).decode(.integer(1)) == 1)
        let xadd = XAdd(stream: "s", approximateMaxLength: 10, fieldCount: 0) { _ in }
        #expect(try xadd.decode(bulk("9-0")) == "9-0")
        #expect(throws: RedisError.unexpectedReply("XADD answered no entry id")) { try xadd.decode(.integer(1)) }
        #expect(xadd.decode(.failure(.timedOut)) == .failure(.timedOut), "failures pass through")
    }

    @Test("XGROUP CREATE: BUSYGROUP means the group exists, other errors are failures")
    func groupCreate() {
        let create = XGroupCreate(stream: "s", group: "g")
        #expect(create.decode(.success(.status("OK"))) == .success(.created))
        let busy = RedisError(errorReply: "BUSYGROUP Consumer Group name already exists")
        #expect(create.decode(.failure(busy)) == .success(.existed))
        let wrong = RedisError(errorReply: "WRONGTYPE Operation against a key holding the wrong kind of value")
        #expect(create.decode(.failure(wrong)) == .failure(wrong))
    }
}
