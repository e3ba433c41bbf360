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
///
/// The entry's fields are a spawn's, named in the script (`type`, `coords`, `chest_id`, `ts`,
/// then `source` when there is one), so a keyed entry is stored as a plain `XADD` of a spawn
/// stores it; only their values travel with each append.
///
/// A class: a keyed spawn's append is handed from the request to its call and its answer in
/// several values (the spawn's plan, the call's waiting list, the call), and one reference
/// costs one retain per copy where nine strings cost nine.
package final class IdempotentAppend: Sendable {
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
    let type: String
    let coordinates: String
    let receivedAt: Int64
    let source: String?

    /// An append to `stream` of the entry `type`, `coords` (`coordinates`), `chest_id`, `ts`
    /// (`receivedAt`) and `source` (when given), guarded by `record`. `fingerprint` is the
    /// canonical text of the spawn (any bytes). A new record is counted in the biome's `stats`
    /// hash.
    package init(
        record: String, stream: String, stats: String, fingerprint: String, chestID: String, type: String,
        coordinates: String, receivedAt: Int64, source: String?
    ) {
        self.record = record
        self.stream = stream
        self.stats = stats
        self.fingerprint = fingerprint
        self.chestID = chestID
        self.type = type
        self.coordinates = coordinates
        self.receivedAt = receivedAt
        self.source = source
    }
}

/// One run of the idempotent-append script: 1 to `maxAppends` keyed appends of one region in
/// one `EVALSHA`. A call's fixed cost (the command's I/O, the Lua entry and exit) is most of a
/// single append's; shared by many appends, it nearly halves Redis's work per keyed spawn.
///
/// What Redis spends per append is mostly crossings from Lua into Redis (each `redis.call`
/// converts its arguments and reply, ~3,000 instructions besides the command's own work) and
/// the strings the call hands to Lua (~600 instructions each, KEYS and ARGV alike): measured
/// with callgrind, docs/benchmarks.md. So an append crosses three times (`GET`, `XADD` without
/// trimming, `SETEX`: ~700 instructions fewer than `SET … EX`, which parses its options) and
/// carries six strings (its record key, fingerprint, chest id, type, coordinates and time); the
/// stream, the stats hash and the source come once per group of appends that share them, and
/// each group trims its stream once: its last append's `XADD` carries the `MAXLEN ~`, or, when
/// that append was a replay, an `XTRIM` follows, in the same atomic step either way (nobody sees the stream longer than trimmed `XADD`s leave it).
///
/// The call runs the appends group by group (a group: one stream and one source, in the order
/// of its first append), each group in the call's order; the outcomes come back in the call's
/// order. Each append sees the records of those before it: two appends with one key (one
/// biome, so one group) in one call are an append and then a replay (or `reused`), as two calls
/// would be. An error inside the script (a stream key of another type) ends the call there: the
/// appends before it stand with their records, so a retry of any of them replays.
///
/// New records are counted in each biome's stats hash: `<bucket>:keys` and `<bucket>:bytes` (the
/// record's key and value bytes and a fixed overhead) for the call's time bucket, one `HINCRBY`
/// pair per distinct hash per call. The first records of a bucket drop the buckets older than
/// the oldest live one and move the hash's expiry to when the new bucket's records will all
/// have expired, so an idle biome leaves nothing behind. That is a scan of at most a few dozen
/// fields once per bucket, where an index of every record would cost a sorted-set insert and
/// prune per append (measured three times the whole script's cost).
package struct IdempotentAppendCall: Sendable {
    /// The most appends in one call: at ~6 µs each, a full call holds Redis for under a
    /// millisecond, which no other client of the server should wait longer than.
    package static let maxAppends = 128

    /// KEYS, per group: its stream, its stats hash, then its appends' records. ARGV: ttl seconds,
    /// maxlen, bucket, oldest live bucket, stats expiry (Unix s), record overhead bytes; then per
    /// group: its append count and source (empty for none), then per append: fingerprint, chest
    /// id, type, coordinates, time. Answers one string per append, in group order: the new
    /// entry's id when it appended, else the key's record as it is (`<id> <chest> <fingerprint>`,
    /// never without a space, which an entry id has not), for the caller to tell a replay from
    /// a reuse.
    package static let script = RedisScript(
        name: "idempotent-append", keyCount: nil,
        source: """
            local ttl, maxlen, bucket = ARGV[1], ARGV[2], ARGV[3]
            local overhead = tonumber(ARGV[6])
            local out, done, counts, order = {}, 0, {}, {}
            local k, a = 1, 7
            while a <= #ARGV do
              local stream, stats, n, source = KEYS[k], KEYS[k + 1], tonumber(ARGV[a]), ARGV[a + 1]
              k, a = k + 2, a + 2
              local added, bytes, trimmed = 0, 0, false
              for i = 1, n do
                local record = KEYS[k]
                local held = redis.call('GET', record)
                done = done + 1
                if held then
                  out[done] = held
                else
                  local id
                  if i < n and source == '' then
                    id = redis.call('XADD', stream, '*', 'type', ARGV[a + 2], 'coords', ARGV[a + 3],
                      'chest_id', ARGV[a + 1], 'ts', ARGV[a + 4])
                  elseif i < n then
                    id = redis.call('XADD', stream, '*', 'type', ARGV[a + 2], 'coords', ARGV[a + 3],
                      'chest_id', ARGV[a + 1], 'ts', ARGV[a + 4], 'source', source)
                  elseif source == '' then
                    id = redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'type', ARGV[a + 2],
                      'coords', ARGV[a + 3], 'chest_id', ARGV[a + 1], 'ts', ARGV[a + 4])
                    trimmed = true
                  else
                    id = redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'type', ARGV[a + 2],
                      'coords', ARGV[a + 3], 'chest_id', ARGV[a + 1], 'ts', ARGV[a + 4], 'source', source)
                    trimmed = true
                  end
                  local value = id .. ' ' .. ARGV[a + 1] .. ' ' .. ARGV[a]
                  redis.call('SETEX', record, ttl, value)
                  added = added + 1
                  bytes = bytes + #record + #value
                  out[done] = id
                end
                k, a = k + 1, a + 5
              end
              if added > 0 then
                if not trimmed then redis.call('XTRIM', stream, 'MAXLEN', '~', maxlen) end
                local count = counts[stats]
                if not count then
                  count = {0, 0}
                  counts[stats] = count
                  order[#order + 1] = stats
                end
                count[1] = count[1] + added
                count[2] = count[2] + bytes + added * overhead
              end
            end
            for _, stats in ipairs(order) do
              local count = counts[stats]
              if redis.call('HINCRBY', stats, bucket .. ':keys', count[1]) == count[1] then
                local old, oldest, expiry = {}, tonumber(ARGV[4]), tonumber(ARGV[5])
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
        /// What a record is counted to cost besides its key and value bytes.
        package let recordOverheadBytes: Int

        package init(bucket: Int64, oldestLiveBucket: Int64, expiry: Int64, recordOverheadBytes: Int) {
            self.bucket = bucket
            self.oldestLiveBucket = oldestLiveBucket
            self.expiry = expiry
            self.recordOverheadBytes = recordOverheadBytes
        }
    }

    package let appends: [IdempotentAppend]
    private let ttlSeconds: Int
    private let approximateMaxLength: Int
    private let statsBucket: StatsBucket
    /// Indices into `appends` in the order the script runs them: group by group.
    private let runOrder: [Int]
    /// Where each group starts in `runOrder`.
    private let groupStarts: [Int]

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
        (runOrder, groupStarts) = Self.groups(appends)
    }

    /// The appends grouped by stream and source, groups in the order of their first append,
    /// each in the call's order. A call usually holds one or a few groups: a linear search of
    /// them costs less than hashing every append's stream.
    private static func groups(_ appends: [IdempotentAppend]) -> (runOrder: [Int], groupStarts: [Int]) {
        let first = appends[0]
        if appends.allSatisfy({ $0.stream == first.stream && $0.source == first.source }) {
            return (Array(appends.indices), [0])
        }
        var members: [[Int]] = []
        for (index, append) in appends.enumerated() {
            if let group = members.firstIndex(where: {
                appends[$0[0]].stream == append.stream && appends[$0[0]].source == append.source
            }) {
                members[group].append(index)
            } else {
                members.append([index])
            }
        }
        var starts: [Int] = []
        var order: [Int] = []
        order.reserveCapacity(appends.count)
        for group in members {
            starts.append(order.count)
            order.append(contentsOf: group)
        }
        return (order, starts)
    }

    /// `EVALSHA sha <keys> <keys…> <arguments…>`, written straight into the RESP bytes with no
    /// argument list in between.
    package func command(sha: String) -> RedisCommand {
        let keyCount = 2 * groupStarts.count + appends.count
        let argumentCount = 3 + keyCount + 6 + 2 * groupStarts.count + 5 * appends.count
        var capacity = 160
        for append in appends {
            capacity +=
                append.record.utf8.count + append.fingerprint.utf8.count + append.chestID.utf8.count
                + append.type.utf8.count + append.coordinates.utf8.count + 100
        }
        var encoder = RedisCommandEncoder(argumentCount: argumentCount, capacity: capacity)
        encoder.append("EVALSHA")
        encoder.append(sha)
        encoder.append(keyCount)
        forEachGroup { group in
            encoder.append(appends[group[group.startIndex]].stream)
            encoder.append(appends[group[group.startIndex]].stats)
            for index in group { encoder.append(appends[index].record) }
        }
        encoder.append(ttlSeconds)
        encoder.append(approximateMaxLength)
        encoder.append(statsBucket.bucket)
        encoder.append(statsBucket.oldestLiveBucket)
        encoder.append(statsBucket.expiry)
        encoder.append(statsBucket.recordOverheadBytes)
        forEachGroup { group in
            encoder.append(group.count)
            encoder.append(appends[group[group.startIndex]].source ?? "")
            for index in group {
                let append = appends[index]
                encoder.append(append.fingerprint)
                encoder.append(append.chestID)
                encoder.append(append.type)
                encoder.append(append.coordinates)
                encoder.append(append.receivedAt)
            }
        }
        return encoder.command(name: "EVALSHA")
    }

    private func forEachGroup(_ body: (ArraySlice<Int>) -> Void) {
        for (number, start) in groupStarts.enumerated() {
            let end = number + 1 < groupStarts.count ? groupStarts[number + 1] : runOrder.count
            body(runOrder[start..<end])
        }
    }

    /// Reads the script's answer: one outcome per append, in the call's order. An entry id
    /// means appended; a record means a replay when its fingerprint is this append's, else
    /// `reused` (the record's chest id is the one to answer, not the one this request made).
    package func decode(_ reply: RedisReply) throws(RedisError) -> [IdempotentAppend.Outcome] {
        guard let words = reply.array else { throw .unexpectedReply("idempotent append answered no verdicts") }
        guard words.count == appends.count else {
            throw .unexpectedReply("idempotent append answered \(words.count) verdicts for \(appends.count) appends")
        }
        var outcomes = [IdempotentAppend.Outcome](repeating: .reused, count: appends.count)
        for (position, index) in runOrder.enumerated() {
            guard case .bulk(let bytes) = words[position] else {
                throw .unexpectedReply("idempotent append answered a non-string")
            }
            outcomes[index] = try Self.outcome(bytes, of: appends[index])
        }
        return outcomes
    }

    /// One append's answer: its new entry id, or the key's record.
    private static func outcome(_ bytes: [UInt8], of append: IdempotentAppend) throws(RedisError)
        -> IdempotentAppend.Outcome
    {
        let space = UInt8(ascii: " ")
        guard let idEnd = bytes.firstIndex(of: space) else {
            return .appended(id: String(decoding: bytes, as: UTF8.self), chestID: append.chestID)
        }
        guard let chestEnd = bytes[(idEnd + 1)...].firstIndex(of: space), idEnd > 0, chestEnd > idEnd + 1 else {
            throw .unexpectedReply("idempotent append answered a record without its chest id")
        }
        guard bytes[(chestEnd + 1)...].elementsEqual(append.fingerprint.utf8) else { return .reused }
        return .replayed(
            id: String(decoding: bytes[..<idEnd], as: UTF8.self),
            chestID: String(decoding: bytes[(idEnd + 1)..<chestEnd], as: UTF8.self))
    }

    /// Decodes a whole answer (a failure passes through, the call's failure for each append).
    package func decode(_ result: Result<RedisReply, RedisError>) -> Result<[IdempotentAppend.Outcome], RedisError> {
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
    /// Runs `call` by SHA on this connection (loading the script when the server lacks it);
    /// `completion` runs on the loop with one outcome per append, in order.
    package func send(
        _ call: IdempotentAppendCall,
        _ completion: @escaping (Result<[IdempotentAppend.Outcome], RedisError>) -> Void
    ) {
        let command = call.command(sha: IdempotentAppendCall.script.sha)
        let send: ScriptRunner.Send = { self.send($0, $1) }
        ScriptRunner.run(IdempotentAppendCall.script, command: command, send: send) { result in
            completion(call.decode(result))
        }
    }
}
