import BusRedis

/// `ZCOUNT index (now +inf`: the live records of a biome's idempotency index (scored by expiry
/// in Unix ms), in O(log n); a missing index counts 0.
public struct LiveRecordCount: StreamCommand {
    public let command: RedisCommand

    public init(index: String, nowMs: Int64) {
        command = RedisCommand("ZCOUNT", .string(index), .string("(\(nowMs)"), "+inf")
    }

    public func decode(_ reply: RedisReply) throws(RedisError) -> Int {
        guard let count = reply.integer else { throw .unexpectedReply("ZCOUNT answered no integer") }
        return Int(count)
    }
}

/// `GET key` of an integer counter; a missing key counts 0.
public struct CounterValue: StreamCommand {
    public let command: RedisCommand

    public init(key: String) {
        command = RedisCommand("GET", .string(key))
    }

    public func decode(_ reply: RedisReply) throws(RedisError) -> Int64 {
        if reply == .null { return 0 }
        guard let value = reply.integer else { throw .unexpectedReply("GET answered no integer") }
        return value
    }
}
