/// Every Lua script the services run: each one does in one atomic step what two commands
/// could not do safely.
package enum StreamScripts {
    /// Copies an entry to the dead-letter stream and acknowledges it, only while `consumer`
    /// still owns it: never both dead and pending, nor lost between the two, and an entry
    /// another consumer reclaimed is left to it. Answers 1, or 0 when owned elsewhere.
    /// KEYS: dead-letter stream, stream. ARGV: group, id, consumer, then the fields to copy.
    package static let deadLetter = RedisScript(
        name: "dead-letter", keyCount: 2,
        source: """
            local owner = redis.call('XPENDING', KEYS[2], ARGV[1], ARGV[2], ARGV[2], 1)
            if #owner == 0 or owner[1][2] ~= ARGV[3] then return 0 end
            redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
            redis.call('XADD', KEYS[1], '*', unpack(ARGV, 4))
            return 1
            """)

    /// Re-claims an entry for a retry, only while `consumer` still owns it; nil when owned elsewhere.
    /// KEYS: stream. ARGV: group, id, consumer, "1" to count the delivery ("0": JUSTID, which
    /// returns only the id and leaves the delivery count as it is).
    package static let claimIfOwned = RedisScript(
        name: "claim-if-owned", keyCount: 1,
        source: """
            local owner = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
            if #owner == 0 or owner[1][2] ~= ARGV[3] then return false end
            if ARGV[4] == '0' then
              return redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')
            end
            return redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2])
            """)

    /// Removes the group's other consumers idle past the limit with nothing pending; answers
    /// their names. Check and delete in one step, so an entry delivered in between can never
    /// be dropped with its consumer. KEYS: stream. ARGV: group, this consumer, idle limit (ms).
    package static let removeGoneConsumers = RedisScript(
        name: "remove-gone-consumers", keyCount: 1,
        source: """
            local removed = {}
            for _, row in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
              local f = {}
              for i = 1, #row, 2 do f[row[i]] = row[i + 1] end
              if f['name'] ~= ARGV[2] and f['pending'] == 0 and f['idle'] > tonumber(ARGV[3]) then
                redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])
                table.insert(removed, f['name'])
              end
            end
            return removed
            """)

    /// Re-appends a dead letter's fields to its stream and deletes it, only if the dead letter
    /// still exists, so a replay run twice does not duplicate; answers the new id, or nil.
    /// KEYS: stream, dead-letter stream. ARGV: dead-letter id, maxlen, then the fields.
    package static let replayDeadLetter = RedisScript(
        name: "replay-dead-letter", keyCount: 2,
        source: """
            if redis.call('XDEL', KEYS[2], ARGV[1]) == 0 then return false end
            return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
            """)
}
