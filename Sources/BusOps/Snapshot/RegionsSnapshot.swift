import BusDomain

/// The ops view of every region at one moment: what `GET /v1/regions` and
/// `biomebus status --json` print.
public struct RegionsSnapshot: Sendable, Equatable {
    public var takenAtMs: Int64
    public var regions: [RegionStatus]

    public init(takenAtMs: Int64, regions: [RegionStatus]) {
        self.takenAtMs = takenAtMs
        self.regions = regions
    }
}

public struct RegionStatus: Sendable, Equatable {
    public var name: String
    public var redis: String
    public var up: Bool
    public var error: String?
    public var usedMemory: Int64?
    /// 0 when Redis has no maxmemory.
    public var maxMemory: Int64?
    public var memoryHighWater: Double
    public var claimIdleMs: Int
    /// The gateway is refusing this region's spawns (memory above its high-water mark).
    public var shedding: Bool
    public var biomes: [BiomeStatus]
    /// The server in use as `host:port` (for a Sentinel region, the master it named); nil while
    /// not connected.
    public var master: String?
    /// That server's `ROLE` (`master`, `slave`, …); nil when unknown.
    public var role: String?
    /// The replicas connected to it (`host:port`, from `ROLE`).
    public var replicas: [String] = []

    public init(
        name: String, redis: String, up: Bool, error: String? = nil, usedMemory: Int64? = nil, maxMemory: Int64? = nil,
        memoryHighWater: Double, claimIdleMs: Int, shedding: Bool = false, biomes: [BiomeStatus] = [],
        master: String? = nil, role: String? = nil, replicas: [String] = []
    ) {
        self.name = name
        self.redis = redis
        self.up = up
        self.error = error
        self.usedMemory = usedMemory
        self.maxMemory = maxMemory
        self.memoryHighWater = memoryHighWater
        self.claimIdleMs = claimIdleMs
        self.shedding = shedding
        self.biomes = biomes
        self.master = master
        self.role = role
        self.replicas = replicas
    }

    /// Live idempotency records of the region's biomes.
    public var idempotencyKeys: Int { biomes.reduce(0) { $0 + $1.idempotencyKeys } }

    /// Bytes of the region's idempotency records.
    public var idempotencyBytes: Int64 { biomes.reduce(0) { $0 + $1.idempotencyBytes } }

    /// used / max, when Redis has a maxmemory.
    public var memoryRatio: Double? {
        guard let usedMemory, let maxMemory, maxMemory > 0 else { return nil }
        return Double(usedMemory) / Double(maxMemory)
    }
}

public struct BiomeStatus: Sendable, Equatable {
    public var biome: BiomeID
    public var length: Int
    public var maxlen: Int
    public var deadLetters: Int
    public var groups: [GroupStatus]
    /// Live idempotency records of the biome (keys not yet expired).
    public var idempotencyKeys: Int
    /// Bytes the biome's idempotency records hold (see `IdempotentAppend`).
    public var idempotencyBytes: Int64

    public init(
        biome: BiomeID, length: Int, maxlen: Int, deadLetters: Int = 0, groups: [GroupStatus] = [],
        idempotencyKeys: Int = 0, idempotencyBytes: Int64 = 0
    ) {
        self.biome = biome
        self.length = length
        self.maxlen = maxlen
        self.deadLetters = deadLetters
        self.groups = groups
        self.idempotencyKeys = idempotencyKeys
        self.idempotencyBytes = idempotencyBytes
    }

    public var stream: String { StreamKey.events(biome) }
    /// length / maxlen (can exceed 1 slightly: `MAXLEN ~` trims whole nodes).
    public var fill: Double { maxlen > 0 ? Double(length) / Double(maxlen) : 0 }
}

public struct GroupStatus: Sendable, Equatable {
    public var name: String
    public var pending: Int
    /// Entries not yet delivered to the group; nil when Redis cannot tell (after trimming).
    public var lag: Int?
    public var consumers: Int
    /// Age of the oldest pending entry (from its id's timestamp), if any is pending.
    public var oldestPendingAgeMs: Int64?

    public init(name: String, pending: Int, lag: Int?, consumers: Int, oldestPendingAgeMs: Int64?) {
        self.name = name
        self.pending = pending
        self.lag = lag
        self.consumers = consumers
        self.oldestPendingAgeMs = oldestPendingAgeMs
    }
}
