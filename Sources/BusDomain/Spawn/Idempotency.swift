/// A client's `Idempotency-Key` (a header on `POST /v1/spawn`, or an event's `idempotency_key`
/// in a batch): 1 to 255 printable ASCII characters (0x20 … 0x7E).
public struct IdempotencyKey: Sendable, Hashable, CustomStringConvertible {
    public static let maxLength = 255

    public let text: String

    /// nil when `text` breaks the rule.
    public init?(_ text: String) {
        let utf8 = text.utf8
        guard (1...Self.maxLength).contains(utf8.count), utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }) else {
            return nil
        }
        self.text = text
    }

    public var description: String { text }
}

/// Whose keys an idempotency record belongs to. Two clients (with auth) never share keys; without
/// auth every caller shares one scope.
public struct IdempotencyScope: Sendable, Hashable, CustomStringConvertible {
    /// The scope of a gateway running without auth: `_`, which no client name (`[a-z0-9-]{1,63}`)
    /// can be, so an open scope never meets a client's.
    public static let open = IdempotencyScope(text: "_")

    public let text: String

    private init(text: String) { self.text = text }

    /// A client's scope; nil when `name` is not a valid client name.
    public init?(client name: String) {
        guard Identifiers.isValidRegionName(name) else { return nil }
        self.text = name
    }

    public var description: String { text }
}

/// The Redis keys of a biome's idempotency records (see docs/architecture.md, "Idempotent spawns").
public enum IdempotencyKeys {
    /// One record per (biome, scope, key): `EVIDEM:<biome>:<scope>:<key>`, a string holding the
    /// spawn's fingerprint, entry id and chest id, expiring after the region's
    /// `stream.idempotency_ttl_s`.
    public static func record(_ biome: BiomeID, scope: IdempotencyScope, key: IdempotencyKey) -> String {
        "EVIDEM:\(biome.value):\(scope.text):\(key.text)"
    }

    /// The biome's index of live records, `EVIDEMIDX:<biome>`: a sorted set of
    /// `<bytes>:<scope>:<key>` scored by expiry (Unix ms), so records are counted without a scan.
    public static func index(_ biome: BiomeID) -> String { "EVIDEMIDX:\(biome.value)" }

    /// The bytes the biome's indexed records hold, `EVIDEMBYTES:<biome>`: an integer kept by the
    /// same script that writes the records.
    public static func bytes(_ biome: BiomeID) -> String { "EVIDEMBYTES:\(biome.value)" }

    /// The index member of a record (without its size prefix): `<scope>:<key>`.
    public static func member(scope: IdempotencyScope, key: IdempotencyKey) -> String {
        "\(scope.text):\(key.text)"
    }
}

extension SpawnEvent {
    /// What "the same body" means for an idempotency key: the validated spawn (biome, type,
    /// coordinates as the stream stores them, and the chest id the client gave, if any), so
    /// bodies that differ only in spacing, member order, number spelling or ignored members
    /// count as the same. Redis hashes it (`redis.sha1hex`) into the stored fingerprint.
    public var idempotencyFingerprintSource: String {
        "\(biome.value)\n\(type)\n\(coordinatesText)\n\(chestID ?? "")"
    }
}
