import BusRedis

/// `HGETALL key` of a hash of integer counters (a biome's idempotency stats); a missing key is
/// an empty hash, a field that is not an integer is skipped.
package struct CounterHash: StreamCommand {
    package let command: RedisCommand

    package init(key: String) {
        command = RedisCommand("HGETALL", .string(key))
    }

    package func decode(_ reply: RedisReply) throws(RedisError) -> [String: Int64] {
        guard reply.array != nil else { throw .unexpectedReply("HGETALL answered no array") }
        return reply.fieldMap.compactMapValues(\.integer)
    }
}
