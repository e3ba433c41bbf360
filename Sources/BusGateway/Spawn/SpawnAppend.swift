import BusDomain
import BusRedis
import BusRegions
import BusStreams

/// The Redis work of one validated spawn: a plain `XADD`, or, when it carries an idempotency
/// key, its append by the idempotent-append script (the entry and the key's record in one
/// step), sent in a call with the other keyed appends of its region that are ready with it.
enum SpawnAppend {
    case plain(XAdd)
    case keyed(IdempotentAppend, key: IdempotencyKey)

    /// The append of `event` as entry fields (type, coords, chest_id, ts, and `source` when a
    /// client is named), to its biome's `stream` trimmed to `maxlen`; keyed under `scope` when
    /// `key` is given (the call it joins carries the region's TTL and maxlen).
    init(
        event: SpawnEvent, stream: String, chestID: String, receivedAt: Int64, maxlen: Int, key: IdempotencyKey?,
        scope: IdempotencyScope, source: String? = nil
    ) {
        let fieldCount = source == nil ? 4 : 5
        func fields(_ entry: inout XAdd.FieldWriter) {
            entry.field(EncodedField.type, event.type)
            entry.field(EncodedField.coordinates, event.coordinatesText)
            entry.field(EncodedField.chestID, chestID)
            entry.field(EncodedField.receivedAt, receivedAt)
            if let source { entry.field(EncodedField.source, source) }
        }
        guard let key else {
            self = .plain(XAdd(stream: stream, approximateMaxLength: maxlen, fieldCount: fieldCount, fields: fields))
            return
        }
        let coordinates = event.coordinatesText
        // The script writes these fields under the same names, in the same order (`fields`
        // above): a keyed entry is stored exactly as a plain one.
        let append = IdempotentAppend(
            record: IdempotencyKeys.record(event.biome, scope: scope, key: key), stream: stream,
            stats: IdempotencyKeys.stats(event.biome),
            fingerprint: event.idempotencyFingerprint(coordinatesText: coordinates), chestID: chestID,
            type: event.type, coordinates: coordinates, receivedAt: receivedAt, source: source)
        self = .keyed(append, key: key)
    }

    /// The entry's field names (`SpawnEvent.Field`) as `XADD` arguments, encoded once.
    private enum EncodedField {
        static let type = RedisEncodedWords(SpawnEvent.Field.type)
        static let coordinates = RedisEncodedWords(SpawnEvent.Field.coordinates)
        static let chestID = RedisEncodedWords(SpawnEvent.Field.chestID)
        static let receivedAt = RedisEncodedWords(SpawnEvent.Field.receivedAt)
        static let source = RedisEncodedWords(SpawnEvent.Field.source)
    }
}

extension IdempotentAppendCall {
    /// A call of `appends` (1 to `maxAppends`) of `region`, its new records counted in the bucket
    /// of `receivedAt` (Unix ms). Spawns coalesced into one call arrive within a loop pass of
    /// each other, so they share the first one's bucket: a record counted in the bucket next to
    /// its own expires at most one bucket width off in the ops figure, never in Redis.
    init(region: RegionConfig, receivedAt: Int64, appends: [IdempotentAppend]) {
        let ttl = region.stream.idempotencyTTLSeconds
        let bucket = IdempotencyAccounting.bucket(nowMs: receivedAt, ttlSeconds: ttl)
        self.init(
            ttlSeconds: ttl, approximateMaxLength: region.stream.maxlen,
            statsBucket: StatsBucket(
                bucket: bucket,
                oldestLiveBucket: IdempotencyAccounting.oldestLiveBucket(nowMs: receivedAt, ttlSeconds: ttl),
                expiry: IdempotencyAccounting.statsExpiry(bucket: bucket, ttlSeconds: ttl),
                recordOverheadBytes: IdempotencyAccounting.recordOverheadBytes),
            appends: appends)
    }
}
