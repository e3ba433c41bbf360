import BusRedis

/// One append guarded by an idempotency key, as one item of an `IdempotentAppendCall`: the
/// entry's `XADD` and the key's record happen in one script, so no crash can leave an entry
/// without its record (a retry would append it twice) or a record without its entry (a retry
/// would be told of an entry that does not exist), and of concurrent appends with one key
/// exactly one appends.
///
/// The record (a string with `EX ttl`) holds `<entry id> <chest id> <fingerprint>`, the
/// fingerprint being the caller's canonical text of the spawn. An append whose key has a record
/// appends nothing: same fingerprint, it answers the stored entry (a replay); another, `reused`.
package struct IdempotentAppend: Sendable {
    /// What the script did with one append.
    package enum Outcome: Sendable, Equatable {
        /// The key was new: the entry was appended and the record written.
        case appended(id: String, chestID: String)
        /// The key's record matched: nothing was written; the original entry.
        case replayed(id: String, chestID: String)
        /// The key's record holds another spawn: nothing was written.
        case reused
    }

    let record: String
    let stream: String
    let stats: String
    let fingerprint: String
    let chestID: String
    let recordBytes: Int
    let fields: StreamEntryFields

    /// An append of `fields` (`chest_id` among them) to `stream`, guarded by `record`.
    /// `fingerprint` is the canonical text of the spawn (any bytes). A new record is counted in
    /// the biome's `stats` hash as `recordBytes`.
    package init(
        record: String, stream: String, stats: String, fingerprint: String, chestID: String, recordBytes: Int,
        fields: StreamEntryFields
    ) {
        self.record = record
        self.stream = stream
        self.stats = stats
        self.fingerprint = fingerprint
        self.chestID = chestID
        self.recordBytes = recordBytes
        self.fields = fields
    }
}

/// One run of the idempotent-append script: 1 to `maxAppends` keyed appends of one region, in
/// order, in one `EVALSHA`. A call's fixed cost (the command's I/O, the Lua entry and exit) is
/// most of a single append's; shared by many appends, it nearly halves Redis's work per keyed
/// spawn (measured on Redis 7.0: 10.2 µs for one append, ~5.7 µs each from five up).
///
/// Appends run in the call's order and each sees the records of those before it: two appends
/// with one key in one call are an append and then a replay (or `reused`), as two calls would be.
/// An error inside the script (a stream key of another type) ends the call there: the appends
/// before it stand with their records, so a retry of any of them replays.
///
/// New records are counted in each biome's stats hash: `<bucket>:keys` and `<bucket>:bytes` for
/// the call's time bucket, one `HINCRBY` pair per distinct hash per call. The first records of a
/// bucket drop the buckets older than the oldest live one and move the hash's expiry to when the
/// new bucket's records will all have expired, so an idle biome leaves nothing behind. That is a
/// scan of at most a few dozen fields once per bucket, where an index of every record would cost
/// a sorted-set insert and prune per append (measured three times the whole script's cost).
/// Every `redis.call` is a crossing from Lua into Redis: keep them few.
package struct IdempotentAppendCall: Sendable {
    /// The most appends in one call: at ~6 µs each, a full call holds Redis for under a
    /// millisecond, which no other client of the server should wait longer than.
    package static let maxAppends = 128

    /// KEYS: per append, its record, stream and stats hash (repeating across appends). ARGV: ttl
    /// seconds, maxlen, bucket, oldest live bucket, stats expiry (Unix s), then per append its
    /// fingerprint, chest id, record bytes, the count of its field words, and those words.
    /// Answers per append `appended <id> <chest>`, `replayed <id> <chest>` or `reused`, in order.
    package static let script = RedisScript(
        name: "idempotent-append", keyCount: nil,
        source: """
            local ttl, maxlen, bucket = ARGV[1], ARGV[2], ARGV[3]
            local out, counts, order = {}, {}, {}
            local a = 6
            for k = 1, #KEYS, 3 do
              local fp, chest, words = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 3])
              local held = redis.call('GET', KEYS[k])
              if held then
                local id, stored_chest, stored = string.match(held, '^(%S+) (%S+) (.*)$')
                if stored == fp then
                  out[#out + 1] = 'replayed'; out[#out + 1] = id; out[#out + 1] = stored_chest
                else
                  out[#out + 1] = 'reused'
                end
              else
                local id = redis.call('XADD', KEYS[k + 1], 'MAXLEN', '~', maxlen, '*', unpack(ARGV, a + 4, a + 3 + words))
                redis.call('SET', KEYS[k], id .. ' ' .. chest .. ' ' .. fp, 'EX', ttl)
                local stats = KEYS[k + 2]
                local count = counts[stats]
                if not count then
                  count = {0, 0}
                  counts[stats] = count
                  order[#order + 1] = stats
                end
                count[1] = count[1] + 1
                count[2] = count[2] + tonumber(ARGV[a + 2])
                out[#out + 1] = 'appended'; out[#out + 1] = id; out[#out + 1] = chest
              end
              a = a + 4 + words
            end
            local oldest, expiry = tonumber(ARGV[4]), tonumber(ARGV[5])
            for _, stats in ipairs(order) do
              local count = counts[stats]
              if redis.call('HINCRBY', stats, bucket .. ':keys', count[1]) == count[1] then
                local old = {}
                for _, field in ipairs(redis.call('HKEYS', stats)) do
                  if tonumber(string.match(field, '^(%d+):')) < oldest then old[#old + 1] = field end
                end
                if #old > 0 then redis.call('HDEL', stats, unpack(old)) end
                if redis.call('EXPIRETIME', stats) < expiry then redis.call('EXPIREAT', stats, expiry) end
              end
              redis.call('HINCRBY', stats, bucket .. ':bytes', count[2])
            end
            return out
            """)

    /// The time bucket a call's new records are counted in (see `IdempotencyAccounting`).
    package struct StatsBucket: Sendable, Equatable {
        package let bucket: Int64
        /// Buckets before this one hold no live record: the first records of `bucket` drop them.
        package let oldestLiveBucket: Int64
        /// When the hash may go, once `bucket` is its newest (Unix seconds).
        package let expiry: Int64

        package init(bucket: Int64, oldestLiveBucket: Int64, expiry: Int64) {
            self.bucket = bucket
            self.oldestLiveBucket = oldestLiveBucket
            self.expiry = expiry
        }
    }

    package let appends: [IdempotentAppend]
    private let ttlSeconds: Int
    private let approximateMaxLength: Int
    private let statsBucket: StatsBucket

    /// `appends` (1 to `maxAppends`), in order, each record kept `ttlSeconds`, each stream
    /// trimmed to about `approximateMaxLength`, new records counted in `statsBucket`.
    package init(
        ttlSeconds: Int, approximateMaxLength: Int, statsBucket: StatsBucket, appends: [IdempotentAppend]
    ) {
        precondition((1...Self.maxAppends).contains(appends.count), "1 to \(Self.maxAppends) appends per call")
        self.ttlSeconds = ttlSeconds
        self.approximateMaxLength = approximateMaxLength
        self.statsBucket = statsBucket
        self.appends = appends
    }

    /// `EVALSHA sha <3 per append> <keys> <arguments>`, written straight into the RESP bytes
    /// (the entries' fields spliced in as they were encoded), with no argument list in between.
    package func command(sha: String) -> RedisCommand {
        var argumentCount = 3 + 5
        var capacity = 128
        for append in appends {
            argumentCount += 3 + 4 + append.fields.wordCount
            capacity +=
                append.fields.encoded.encoded.count + 2 * append.record.utf8.count + append.stream.utf8.count
                + append.stats.utf8.count + append.fingerprint.utf8.count + append.chestID.utf8.count + 96
        }
        var encoder = RedisCommandEncoder(argumentCount: argumentCount, capacity: capacity)
        encoder.append("EVALSHA")
        encoder.append(sha)
        encoder.append(3 * appends.count)
        for append in appends {
            encoder.append(append.record)
            encoder.append(append.stream)
            encoder.append(append.stats)
        }
        encoder.append(ttlSeconds)
        encoder.append(approximateMaxLength)
        encoder.append(statsBucket.bucket)
        encoder.append(statsBucket.oldestLiveBucket)
        encoder.append(statsBucket.expiry)
        for append in appends {
            encoder.append(append.fingerprint)
            encoder.append(append.chestID)
            encoder.append(append.recordBytes)
            encoder.append(append.fields.wordCount)
            encoder.append(append.fields.encoded)
        }
        return encoder.command(name: "EVALSHA")
    }

    /// Reads the script's answer for a call of `count` appends: one outcome per append, in order.
    package static func decode(_ reply: RedisReply, count: Int) throws(RedisError) -> [IdempotentAppend.Outcome] {
        guard let words = reply.array else { throw .unexpectedReply("idempotent append answered no verdicts") }
        var outcomes: [IdempotentAppend.Outcome] = []
        outcomes.reserveCapacity(count)
        var index = 0
        while index < words.count {
            switch words[index].string {
            case "reused":
                outcomes.append(.reused)
                index += 1
            case let verdict? where verdict == "appended" || verdict == "replayed":
                guard index + 2 < words.count, let id = words[index + 1].string,
                    let chestID = words[index + 2].string
                else { throw .unexpectedReply("idempotent append answered no entry") }
                outcomes.append(
                    verdict == "appended" ? .appended(id: id, chestID: chestID) : .replayed(id: id, chestID: chestID))
                index += 3
            default:
                throw .unexpectedReply("idempotent append answered \(words[index].string ?? "a non-string")")
            }
        }
        guard outcomes.count == count else {
            throw .unexpectedReply("idempotent append answered \(outcomes.count) verdicts for \(count) appends")
        }
        return outcomes
    }

    /// Decodes a whole answer (a failure passes through, the call's failure for each append).
    package static func decode(_ result: Result<RedisReply, RedisError>, count: Int) -> Result<
        [IdempotentAppend.Outcome], RedisError
    > {
        switch result {
        case .success(let reply):
            do throws(RedisError) {
                return .success(try decode(reply, count: count))
            } catch {
                return .failure(error)
            }
        case .failure(let error):
            return .failure(error)
        }
    }
}

extension RedisConnection {
    /// Runs `call` by SHA on this connection (loading the script when the server lacks it);
    /// `completion` runs on the loop with one outcome per append, in order.
    package func send(
        _ call: IdempotentAppendCall,
        _ completion: @escaping (Result<[IdempotentAppend.Outcome], RedisError>) -> Void
    ) {
        let command = call.command(sha: IdempotentAppendCall.script.sha)
        let count = call.appends.count
        let send: ScriptRunner.Send = { self.send($0, $1) }
        ScriptRunner.run(IdempotentAppendCall.script, command: command, send: send) { result in
            completion(IdempotentAppendCall.decode(result, count: count))
        }
    }
}
