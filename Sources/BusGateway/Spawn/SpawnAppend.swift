import BusDomain
import BusStreams

/// The Redis work of one validated spawn: a plain `XADD`, or, when it carries an idempotency
/// key, the idempotent-append script (the entry and the key's record in one step).
enum SpawnAppend {
    case plain(XAdd)
    case keyed(IdempotentAppend, key: IdempotencyKey)

    /// The append of `event` as entry fields (type, coords, chest_id, ts, and `source` when a
    /// client is named), to its biome's stream trimmed to `maxlen`; keyed under `scope` for
    /// `ttlSeconds` when `key` is given.
    init(
        event: SpawnEvent, chestID: String, receivedAt: Int64, maxlen: Int, key: IdempotencyKey?,
        scope: IdempotencyScope, ttlSeconds: Int, source: String? = nil
    ) {
        let stream = StreamKey.events(event.biome)
        guard let key else {
            self = .plain(
                XAdd(stream: stream, approximateMaxLength: maxlen, fieldCount: source == nil ? 4 : 5) { entry in
                    entry.field(SpawnEvent.Field.type, event.type)
                    entry.field(SpawnEvent.Field.coordinates, event.coordinatesText)
                    entry.field(SpawnEvent.Field.chestID, chestID)
                    entry.field(SpawnEvent.Field.receivedAt, receivedAt)
                    if let source { entry.field(SpawnEvent.Field.source, source) }
                })
            return
        }
        let record = IdempotencyKeys.record(event.biome, scope: scope, key: key)
        let fingerprint = event.idempotencyFingerprint
        let receivedAtText = String(receivedAt)
        let bucket = IdempotencyAccounting.bucket(nowMs: receivedAt, ttlSeconds: ttlSeconds)
        // The record's value is "<id> <chest id> <fingerprint>"; an entry id is at most ~30 bytes.
        let recordBytes =
            record.utf8.count + 32 + chestID.utf8.count + fingerprint.utf8.count
            + IdempotencyAccounting.recordOverheadBytes
        let append = IdempotentAppend(
            record: record, stream: stream, stats: IdempotencyKeys.stats(event.biome), ttlSeconds: ttlSeconds,
            fingerprint: fingerprint, approximateMaxLength: maxlen, chestID: chestID, bucket: bucket,
            recordBytes: recordBytes,
            oldestLiveBucket: IdempotencyAccounting.oldestLiveBucket(nowMs: receivedAt, ttlSeconds: ttlSeconds),
            statsExpiry: IdempotencyAccounting.statsExpiry(bucket: bucket, ttlSeconds: ttlSeconds),
            fields: [
                (SpawnEvent.Field.type, event.type), (SpawnEvent.Field.coordinates, event.coordinatesText),
                (SpawnEvent.Field.chestID, chestID), (SpawnEvent.Field.receivedAt, receivedAtText),
            ] + (source.map { [(SpawnEvent.Field.source, $0)] } ?? []))
        self = .keyed(append, key: key)
    }
}
