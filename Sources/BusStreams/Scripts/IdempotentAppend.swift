import BusRedis

/// An append guarded by an idempotency key: the `XADD` and the key's record happen in one
/// script, so no crash can leave an entry without its record (a retry would append it twice) or
/// a record without its entry (a retry would be told of an entry that does not exist), and of
/// concurrent calls with one key exactly one appends.
///
/// The record (`KEYS[1]`, a string with `EX ttl`) holds `<entry id> <chest id> <fingerprint>`,
/// the fingerprint being the caller's canonical text of the spawn. A call whose key has a record
/// appends nothing: same fingerprint, it answers the stored entry (a replay); another, `reused`.
///
/// A new record is also counted in the biome's stats hash (`KEYS[3]`): `<bucket>:keys` and
/// `<bucket>:bytes` for the caller's time bucket. The first record of a bucket drops the
/// buckets older than the caller's oldest live one and moves the hash's expiry to when the new
/// bucket's records will all have expired, so an idle biome leaves nothing behind. That is two
/// `HINCRBY`s per record and a scan of at most a few dozen fields once per bucket, where an index
/// of every record would cost a sorted-set insert and prune per call (measured three times the
/// script's cost on Redis 7.0). Every redis.call costs a Lua round trip: keep them few.
package struct IdempotentAppend: Sendable {
    /// KEYS: record, stream, stats hash. ARGV: ttl seconds, fingerprint, maxlen, chest id,
    /// bucket, record bytes, oldest live bucket, stats expiry (Unix s), then the entry's fields
    /// and values.
    package static let script = RedisScript(
        name: "idempotent-append", keyCount: 3,
        source: """
            local held = redis.call('GET', KEYS[1])
            if held then
              local id, chest, stored = string.match(held, '^(%S+) (%S+) (.*)$')
              if stored ~= ARGV[2] then return {'reused'} end
              return {'replayed', id, chest}
            end
            local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', unpack(ARGV, 9))
            redis.call('SET', KEYS[1], id .. ' ' .. ARGV[4] .. ' ' .. ARGV[2], 'EX', ARGV[1])
            if redis.call('HINCRBY', KEYS[3], ARGV[5] .. ':keys', 1) == 1 then
              local oldest = tonumber(ARGV[7])
              for _, field in ipairs(redis.call('HKEYS', KEYS[3])) do
                if tonumber(string.match(field, '^(%d+):')) < oldest then redis.call('HDEL', KEYS[3], field) end
              end
              if redis.call('EXPIRETIME', KEYS[3]) < tonumber(ARGV[8]) then
                redis.call('EXPIREAT', KEYS[3], ARGV[8])
              end
            end
            redis.call('HINCRBY', KEYS[3], ARGV[5] .. ':bytes', ARGV[6])
            return {'appended', id, ARGV[4]}
            """)

    /// What the script did.
    package enum Outcome: Sendable, Equatable {
        /// The key was new: the entry was appended and the record written.
        case appended(id: String, chestID: String)
        /// The key's record matched: nothing was written; the original entry.
        case replayed(id: String, chestID: String)
        /// The key's record holds another spawn: nothing was written.
        case reused
    }

    private let record: String
    private let stream: String
    private let stats: String
    private let ttlSeconds: Int
    private let fingerprint: String
    private let approximateMaxLength: Int
    private let chestID: String
    private let bucket: Int64
    private let recordBytes: Int
    private let oldestLiveBucket: Int64
    private let statsExpiry: Int64
    private let fields: [(name: String, value: String)]

    /// An append of `fields` (names and values, in order; `chest_id` among them) to `stream`,
    /// trimmed to about `approximateMaxLength`, guarded by `record` for `ttlSeconds`.
    /// `fingerprint` is the canonical text of the spawn (any bytes). The record is counted in
    /// `stats` under `bucket` as `recordBytes`; buckets before `oldestLiveBucket` are dropped and
    /// the hash expires at `statsExpiry` (Unix seconds) at the earliest.
    package init(
        record: String, stream: String, stats: String, ttlSeconds: Int, fingerprint: String,
        approximateMaxLength: Int, chestID: String, bucket: Int64, recordBytes: Int, oldestLiveBucket: Int64,
        statsExpiry: Int64, fields: [(name: String, value: String)]
    ) {
        self.record = record
        self.stream = stream
        self.stats = stats
        self.ttlSeconds = ttlSeconds
        self.fingerprint = fingerprint
        self.approximateMaxLength = approximateMaxLength
        self.chestID = chestID
        self.bucket = bucket
        self.recordBytes = recordBytes
        self.oldestLiveBucket = oldestLiveBucket
        self.statsExpiry = statsExpiry
        self.fields = fields
    }

    /// The script's keys, in its order.
    package var keys: [String] { [record, stream, stats] }

    /// The script's arguments, in its order (for runners that take them as a list).
    package var arguments: [RedisArgument] {
        var arguments: [RedisArgument] = [
            .integer(Int64(ttlSeconds)), .string(fingerprint), .integer(Int64(approximateMaxLength)),
            .string(chestID), .integer(bucket), .integer(Int64(recordBytes)), .integer(oldestLiveBucket),
            .integer(statsExpiry),
        ]
        for field in fields {
            arguments.append(.string(field.name))
            arguments.append(.string(field.value))
        }
        return arguments
    }

    /// `EVALSHA sha 3 <keys> <arguments>`, written straight into the RESP bytes: the gateway's
    /// per-spawn form, with no argument list in between.
    package func command(sha: String) -> RedisCommand {
        var encoder = RedisCommandEncoder(argumentCount: 14 + 2 * fields.count)
        encoder.append("EVALSHA")
        encoder.append(sha)
        encoder.append(3)
        encoder.append(record)
        encoder.append(stream)
        encoder.append(stats)
        encoder.append(ttlSeconds)
        encoder.append(fingerprint)
        encoder.append(approximateMaxLength)
        encoder.append(chestID)
        encoder.append(bucket)
        encoder.append(recordBytes)
        encoder.append(oldestLiveBucket)
        encoder.append(statsExpiry)
        for field in fields {
            encoder.append(field.name)
            encoder.append(field.value)
        }
        return encoder.command(name: "EVALSHA")
    }

    /// Reads the script's answer.
    package static func decode(_ reply: RedisReply) throws(RedisError) -> Outcome {
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
    package static func decode(_ result: Result<RedisReply, RedisError>) -> Result<Outcome, RedisError> {
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
    package func send(
        _ append: IdempotentAppend, _ completion: @escaping (Result<IdempotentAppend.Outcome, RedisError>) -> Void
    ) {
        let command = append.command(sha: IdempotentAppend.script.sha)
        let send: ScriptRunner.Send = { self.send($0, $1) }
        ScriptRunner.run(IdempotentAppend.script, command: command, send: send) { result in
            completion(IdempotentAppend.decode(result))
        }
    }
}
