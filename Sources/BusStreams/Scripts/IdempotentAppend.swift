import BusRedis

/// An append guarded by an idempotency key: the `XADD` and the key's record happen in one
/// script, so no crash can leave an entry without its record (a retry would append it twice) or
/// a record without its entry (a retry would be told of an entry that does not exist), and of
/// concurrent calls with one key exactly one appends.
///
/// The record (`KEYS[1]`, a string with `EX ttl`) holds `<fingerprint> <entry id> <chest id>`,
/// the fingerprint being `redis.sha1hex` of the caller's canonical spawn text. A call whose key
/// has a record appends nothing: same fingerprint, it answers the stored entry (a replay);
/// another fingerprint, it answers `reused`.
///
/// Each new record also enters the biome's index (a sorted set of `<bytes>:<member>` scored by
/// expiry in Unix ms) and its byte counter, and expired index entries are pruned (at most 64
/// per call, oldest first, which outpaces the one entry each call adds), so `status` counts
/// records and bytes with two O(log n) reads instead of a scan. Index and counter expire with
/// their newest record: an idle biome leaves nothing behind. A record's bytes are its
/// `MEMORY USAGE` plus the length of its index member (the index's own per-entry overhead is
/// not counted); records pruned late (more than 64 expired at once) are counted until pruned.
public struct IdempotentAppend: Sendable {
    /// KEYS: record, stream, index, bytes counter. ARGV: ttl seconds, fingerprint source, index
    /// member, maxlen, chest id, then the entry's fields and values.
    public static let script = RedisScript(
        name: "idempotent-append", keyCount: 4,
        source: """
            local fingerprint = redis.sha1hex(ARGV[2])
            local held = redis.call('GET', KEYS[1])
            if held then
              local stored, id, chest = string.match(held, '^(%S+) (%S+) (%S+)$')
              if stored ~= fingerprint then return {'reused'} end
              return {'replayed', id, chest}
            end
            local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', unpack(ARGV, 6))
            local ttl = tonumber(ARGV[1])
            redis.call('SET', KEYS[1], fingerprint .. ' ' .. id .. ' ' .. ARGV[5], 'EX', ttl)
            local time = redis.call('TIME')
            local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
            local expires = now + ttl * 1000
            local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 64)
            local freed = 0
            if #gone > 0 then
              for _, member in ipairs(gone) do freed = freed + tonumber(string.match(member, '^(%d+):')) end
              redis.call('ZREM', KEYS[3], unpack(gone))
            end
            local member = ARGV[3]
            local size = redis.call('MEMORY', 'USAGE', KEYS[1]) + #member
            local added = redis.call('ZADD', KEYS[3], expires, size .. ':' .. member)
            if added == 0 then size = 0 end
            redis.call('INCRBY', KEYS[4], size - freed)
            if redis.call('PEXPIRETIME', KEYS[3]) < expires then
              redis.call('PEXPIREAT', KEYS[3], expires)
              redis.call('PEXPIREAT', KEYS[4], expires)
            end
            return {'appended', id, ARGV[5]}
            """)

    /// What the script did.
    public enum Outcome: Sendable, Equatable {
        /// The key was new: the entry was appended and the record written.
        case appended(id: String, chestID: String)
        /// The key's record matched: nothing was written; the original entry.
        case replayed(id: String, chestID: String)
        /// The key's record holds another spawn: nothing was written.
        case reused
    }

    public let keys: [String]
    public let arguments: [RedisArgument]

    /// An append of `fields` (names and values, in order; `chest_id` among them) to `stream`,
    /// trimmed to about `approximateMaxLength`, guarded by `record` for `ttlSeconds`.
    /// `fingerprintSource` is the canonical text of the spawn; `indexMember` names the record
    /// in the biome's `index` (see the type's comment), whose byte total is kept in `bytes`.
    public init(
        record: String, stream: String, index: String, bytes: String, ttlSeconds: Int, fingerprintSource: String,
        indexMember: String, approximateMaxLength: Int, chestID: String, fields: [(name: String, value: String)]
    ) {
        keys = [record, stream, index, bytes]
        var arguments: [RedisArgument] = [
            .integer(Int64(ttlSeconds)), .string(fingerprintSource), .string(indexMember),
            .integer(Int64(approximateMaxLength)), .string(chestID),
        ]
        arguments.reserveCapacity(arguments.count + 2 * fields.count)
        for field in fields {
            arguments.append(.string(field.name))
            arguments.append(.string(field.value))
        }
        self.arguments = arguments
    }

    /// Reads the script's answer.
    public static func decode(_ reply: RedisReply) throws(RedisError) -> Outcome {
        guard let parts = reply.array, let verdict = parts.first?.string else {
            throw .unexpectedReply("idempotent append answered no verdict")
        }
        switch verdict {
        case "reused":
            return .reused
        case "appended", "replayed":
            guard parts.count == 3, let id = parts[1].string, let chestID = parts[2].string else {
                throw .unexpectedReply("idempotent append answered no entry")
            }
            return verdict == "appended" ? .appended(id: id, chestID: chestID) : .replayed(id: id, chestID: chestID)
        default:
            throw .unexpectedReply("idempotent append answered \(verdict)")
        }
    }

    /// Decodes a whole outcome (failures pass through).
    public static func decode(_ result: Result<RedisReply, RedisError>) -> Result<Outcome, RedisError> {
        switch result {
        case .success(let reply):
            do throws(RedisError) {
                return .success(try decode(reply))
            } catch {
                return .failure(error)
            }
        case .failure(let error):
            return .failure(error)
        }
    }
}

extension RedisConnection {
    /// Runs `append` by SHA on this connection (loading the script when the server lacks it);
    /// `completion` runs on the loop.
    public func send(
        _ append: IdempotentAppend, _ completion: @escaping (Result<IdempotentAppend.Outcome, RedisError>) -> Void
    ) {
        run(IdempotentAppend.script, keys: append.keys, arguments: append.arguments) { result in
            completion(IdempotentAppend.decode(result))
        }
    }
}
