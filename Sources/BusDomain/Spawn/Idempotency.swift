/// A client's `Idempotency-Key` (a header on `POST /v1/spawn`, or an event's `idempotency_key`
/// in a batch): 1 to 255 printable ASCII characters (0x20 … 0x7E).
package struct IdempotencyKey: Sendable, Hashable, CustomStringConvertible {
    package static let maxLength = 255

    package let text: String

    /// nil when `text` breaks the rule.
    package init?(_ text: String) {
        var text = text
        // Over the contiguous bytes: through String.UTF8View's index this was ~30 instructions
        // a character on every keyed spawn.
        let valid = text.withUTF8 { bytes in
            (1...Self.maxLength).contains(bytes.count) && bytes.allSatisfy { $0 >= 0x20 && $0 <= 0x7E }
        }
        guard valid else { return nil }
        self.text = text
    }

    package var description: String { text }
}

/// Whose keys an idempotency record belongs to. Two clients (with auth) never share keys; without
/// auth every caller shares one scope.
package struct IdempotencyScope: Sendable, Hashable, CustomStringConvertible {
    /// The scope of a gateway running without auth: `_`, which no client name (`[a-z0-9-]{1,63}`)
    /// can be, so an open scope never meets a client's.
    package static let open = IdempotencyScope(text: "_")

    package let text: String

    private init(text: String) { self.text = text }

    /// A client's scope; nil when `name` is not a valid client name.
    package init?(client name: String) {
        guard Identifiers.isValidRegionName(name) else { return nil }
        self.text = name
    }

    package var description: String { text }
}

/// The Redis keys of a biome's idempotency records (see docs/architecture.md, "Idempotent spawns").
package enum IdempotencyKeys {
    /// One record per (biome, scope, key): `EVIDEM:<biome>:<scope>:<key>`, a string holding the
    /// spawn's entry id, chest id and fingerprint, expiring after the region's
    /// `stream.idempotency_ttl_s`.
    package static func record(_ biome: BiomeID, scope: IdempotencyScope, key: IdempotencyKey) -> String {
        "EVIDEM:\(biome.value):\(scope.text):\(key.text)"
    }

    /// The biome's record counts, `EVIDEMSTAT:<biome>`: a hash of `<bucket>:keys` and
    /// `<bucket>:bytes` per time bucket of records written (see `IdempotencyAccounting`), kept by
    /// the same script that writes the records.
    package static func stats(_ biome: BiomeID) -> String { "EVIDEMSTAT:\(biome.value)" }
}

/// How idempotency records are counted without a scan and without per-record bookkeeping:
/// the script adds each new record's count and bytes to its creation-time bucket (a sixteenth of
/// the TTL wide) in the biome's stats hash; a bucket is dropped once all its records have
/// expired. Live records are then the sum of the buckets younger than the TTL: exact but for
/// the oldest bucket, which is counted whole while its records expire (at most a sixteenth of a
/// TTL's worth too many). Pure arithmetic on Unix time, shared by the writer and the readers.
package enum IdempotencyAccounting {
    /// Buckets per TTL.
    package static let bucketsPerTTL = 16
    /// What a record costs Redis besides its key and value bytes (dictionary entry, object
    /// headers, the expiry entry): an estimate, so the byte figure is approximate.
    package static let recordOverheadBytes = 80

    /// A bucket's width in seconds for `ttlSeconds`.
    package static func bucketSeconds(ttlSeconds: Int) -> Int {
        max(1, (ttlSeconds + bucketsPerTTL - 1) / bucketsPerTTL)
    }

    /// The bucket a record written at `nowMs` (Unix ms) falls in.
    package static func bucket(nowMs: Int64, ttlSeconds: Int) -> Int64 {
        nowMs / 1000 / Int64(bucketSeconds(ttlSeconds: ttlSeconds))
    }

    /// The oldest bucket that may still hold a live record at `nowMs`.
    package static func oldestLiveBucket(nowMs: Int64, ttlSeconds: Int) -> Int64 {
        (nowMs / 1000 - Int64(ttlSeconds)) / Int64(bucketSeconds(ttlSeconds: ttlSeconds))
    }

    /// When the stats hash may go, once `bucket` is its newest: all its records have expired
    /// (Unix seconds).
    package static func statsExpiry(bucket: Int64, ttlSeconds: Int) -> Int64 {
        (bucket + 1) * Int64(bucketSeconds(ttlSeconds: ttlSeconds)) + Int64(ttlSeconds)
    }

    /// Live records and their bytes from a stats hash's fields at `nowMs`.
    package static func live(_ fields: [String: Int64], nowMs: Int64, ttlSeconds: Int) -> (keys: Int, bytes: Int64) {
        let oldest = oldestLiveBucket(nowMs: nowMs, ttlSeconds: ttlSeconds)
        var keys = 0
        var bytes: Int64 = 0
        for (name, value) in fields {
            let parts = name.split(separator: ":")
            guard parts.count == 2, let bucket = Int64(parts[0]), bucket >= oldest else { continue }
            if parts[1] == "keys" { keys += Int(value) } else if parts[1] == "bytes" { bytes += value }
        }
        return (keys, bytes)
    }
}

extension SpawnEvent {
    /// What "the same body" means for an idempotency key: the validated spawn (biome, type,
    /// coordinates as the stream stores them, and the chest id the client gave, if any), so
    /// bodies that differ only in spacing, member order, number spelling or ignored members
    /// count as the same. The record stores it as it is (shorter than a hash for typical spawns,
    /// at most about 190 bytes) and a later use of the key compares it byte for byte.
    package var idempotencyFingerprint: String { idempotencyFingerprint(coordinatesText: coordinatesText) }

    /// The fingerprint with `coordinatesText` already written (the keyed append writes it once
    /// for the entry and the fingerprint both).
    package func idempotencyFingerprint(coordinatesText: String) -> String {
        "\(biome.value)\n\(type)\n\(coordinatesText)\n\(chestID ?? "")"
    }
}
