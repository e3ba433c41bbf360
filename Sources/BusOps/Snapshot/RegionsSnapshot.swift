import BusDomain

/// The ops view of every region at one moment: what `GET /v1/regions` and
/// `biomebus status --json` print.
package struct RegionsSnapshot: Sendable, Equatable {
    package var takenAtMs: Int64
    package var regions: [RegionStatus]

    package init(takenAtMs: Int64, regions: [RegionStatus]) {
        self.takenAtMs = takenAtMs
        self.regions = regions
    }
}

package struct RegionStatus: Sendable, Equatable {
    package var name: String
    package var redis: String
    package var up: Bool
    package var error: String?
    package var usedMemory: Int64?
    /// 0 when Redis has no maxmemory.
    package var maxMemory: Int64?
    package var memoryHighWater: Double
    package var claimIdleMs: Int
    /// The gateway is refusing this region's spawns (memory above its high-water mark).
    package var shedding: Bool
    package var biomes: [BiomeStatus]
    /// The server in use as `host:port` (for a Sentinel region, the master it named); nil while
    /// not connected.
    package var master: String?
    /// That server's `ROLE` (`master`, `slave`, …); nil when unknown.
    package var role: String?
    /// The replicas connected to it (`host:port`, from `ROLE`).
    package var replicas: [String] = []

    package init(
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
    package var idempotencyKeys: Int { biomes.reduce(0) { $0 + $1.idempotencyKeys } }

    /// Bytes of the region's idempotency records.
    package var idempotencyBytes: Int64 { biomes.reduce(0) { $0 + $1.idempotencyBytes } }

    /// used / max, when Redis has a maxmemory.
    package var memoryRatio: Double? {
        guard let usedMemory, let maxMemory, maxMemory > 0 else { return nil }
        return Double(usedMemory) / Double(maxMemory)
    }
}

package struct BiomeStatus: Sendable, Equatable {
    package var biome: BiomeID
    package var length: Int
    package var maxlen: Int
    package var deadLetters: Int
    package var groups: [GroupStatus]
    /// Live idempotency records of the biome (keys not yet expired).
    package var idempotencyKeys: Int
    /// Bytes the biome's idempotency records hold (see `IdempotentAppend`).
    package var idempotencyBytes: Int64

    package init(
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

    package var stream: String { StreamKey.events(biome) }
    /// length / maxlen (can exceed 1 slightly: `MAXLEN ~` trims whole nodes).
    package var fill: Double { maxlen > 0 ? Double(length) / Double(maxlen) : 0 }
}

package struct GroupStatus: Sendable, Equatable {
    package var name: String
    package var pending: Int
    /// Entries not yet delivered to the group; nil when Redis cannot tell (after trimming).
    package var lag: Int?
    package var consumers: Int
    /// Age of the oldest pending entry (from its id's timestamp), if any is pending.
    package var oldestPendingAgeMs: Int64?

    package init(name: String, pending: Int, lag: Int?, consumers: Int, oldestPendingAgeMs: Int64?) {
        self.name = name
        self.pending = pending
        self.lag = lag
        self.consumers = consumers
        self.oldestPendingAgeMs = oldestPendingAgeMs
    }
}
