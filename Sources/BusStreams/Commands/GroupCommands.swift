import BusRedis

/// `XGROUP CREATE stream group start MKSTREAM`: a group that exists already is an answer, not
/// a failure (Redis says BUSYGROUP).
package struct XGroupCreate: StreamCommand {
    package enum Outcome: Sendable, Equatable { case created, existed }

    package let command: RedisCommand

    /// `start` `0` makes the group read the stream from its first entry.
    package init(stream: String, group: String, start: String = "0") {
        command = RedisCommand("XGROUP", "CREATE", .string(stream), .string(group), .string(start), "MKSTREAM")
    }

    package func decode(_ reply: RedisReply) throws(RedisError) -> Outcome { .created }

    package func decode(_ result: Result<RedisReply, RedisError>) -> Result<Outcome, RedisError> {
        switch result {
        case .success: .success(.created)
        case .failure(let error) where error.serverCode == .busyGroup: .success(.existed)
        case .failure(let error): .failure(error)
        }
    }
}

/// `XREADGROUP GROUP group consumer COUNT n BLOCK ms STREAMS s… > …`: new entries only.
package struct XReadGroup: StreamCommand {
    package let command: RedisCommand

    package init(group: String, consumer: String, count: Int, blockMs: Int, streams: [String]) {
        var encoder = RedisCommandEncoder(argumentCount: 9 + 2 * streams.count)
        for word in ["XREADGROUP", "GROUP", group, consumer, "COUNT"] { encoder.append(word) }
        encoder.append(count)
        encoder.append("BLOCK")
        encoder.append(blockMs)
        encoder.append("STREAMS")
        for stream in streams { encoder.append(stream) }
        for _ in streams { encoder.append(">") }
        command = encoder.command(name: "XREADGROUP")
    }

    package func decode(_ reply: RedisReply) throws(RedisError) -> ReadGroupResult {
        try ReadGroupResult(reply: reply)
    }
}

/// `XACK stream group id…`, answered with how many were pending.
package struct XAck: StreamCommand {
    package let command: RedisCommand

    package init(stream: String, group: String, ids: [String]) {
        var encoder = RedisCommandEncoder(argumentCount: 3 + ids.count)
        encoder.append("XACK")
        encoder.append(stream)
        encoder.append(group)
        for id in ids { encoder.append(id) }
        command = encoder.command(name: "XACK")
    }

    package func decode(_ reply: RedisReply) throws(RedisError) -> Int {
        guard let count = reply.integer else { throw .unexpectedReply("XACK answered no count") }
        return Int(count)
    }
}

/// `XAUTOCLAIM stream group consumer min-idle start COUNT n`.
package struct XAutoClaim: StreamCommand {
    package let command: RedisCommand

    package init(stream: String, group: String, consumer: String, minIdleMs: Int, start: String, count: Int) {
        command = RedisCommand(
            "XAUTOCLAIM", .string(stream), .string(group), .string(consumer), .integer(Int64(minIdleMs)),
            .string(start), "COUNT", .integer(Int64(count)))
    }

    package func decode(_ reply: RedisReply) throws(RedisError) -> AutoClaimResult {
        try AutoClaimResult(reply: reply)
    }
}

/// Summary `XPENDING stream group`.
package struct XPendingSummary: StreamCommand {
    package let command: RedisCommand

    package init(stream: String, group: String) {
        command = RedisCommand("XPENDING", .string(stream), .string(group))
    }

    package func decode(_ reply: RedisReply) throws(RedisError) -> PendingSummary {
        try PendingSummary(reply: reply)
    }
}

/// Extended `XPENDING stream group start end count`.
package struct XPendingRange: StreamCommand {
    package let command: RedisCommand

    package init(stream: String, group: String, start: String, end: String, count: Int) {
        command = RedisCommand(
            "XPENDING", .string(stream), .string(group), .string(start), .string(end), .integer(Int64(count)))
    }

    package func decode(_ reply: RedisReply) throws(RedisError) -> [PendingEntry] {
        try PendingEntry.list(reply)
    }
}

/// `XINFO GROUPS stream`. A stream that does not exist answers an error (no such key).
package struct XInfoGroups: StreamCommand {
    package let command: RedisCommand

    package init(stream: String) {
        command = RedisCommand("XINFO", "GROUPS", .string(stream))
    }

    package func decode(_ reply: RedisReply) throws(RedisError) -> [GroupInfo] {
        try GroupInfo.list(reply)
    }
}

/// `XLEN stream` (0 for a stream that does not exist).
package struct XLen: StreamCommand {
    package let command: RedisCommand

    package init(stream: String) {
        command = RedisCommand("XLEN", .string(stream))
    }

    package func decode(_ reply: RedisReply) throws(RedisError) -> Int {
        guard let length = reply.integer else { throw .unexpectedReply("XLEN answered no length") }
        return Int(length)
    }
}

/// `XRANGE stream start end`, oldest first.
package struct XRange: StreamCommand {
    package let command: RedisCommand

    package init(stream: String, start: String = "-", end: String = "+") {
        command = RedisCommand("XRANGE", .string(stream), .string(start), .string(end))
    }

    package func decode(_ reply: RedisReply) throws(RedisError) -> [StreamEntry] {
        try StreamEntry.list(reply)
    }
}

/// `INFO memory`.
package struct InfoMemory: StreamCommand {
    package let command = RedisCommand("INFO", "memory")

    package init() {}

    package func decode(_ reply: RedisReply) throws(RedisError) -> MemoryInfo {
        guard let text = reply.string else { throw .unexpectedReply("INFO answered no text") }
        return MemoryInfo(text: text)
    }
}
