/// One region from `regions/<file>.yaml`: its Redis, its biomes and their stream and consumer
/// settings. Defaults are the contract's.
public struct RegionConfig: Sendable, Equatable {
    /// `[a-z0-9-]{1,63}`, unique across regions.
    public var name: String
    public var redis: RedisAddress
    /// Unique across all regions.
    public var biomes: [BiomeID]
    public var stream: StreamConfig
    public var consumer: ConsumerConfig
    /// The file the region came from, for messages.
    public var sourceFile: String

    public init(
        name: String, redis: RedisAddress, biomes: [BiomeID], stream: StreamConfig = .init(),
        consumer: ConsumerConfig = .init(), sourceFile: String = "<memory>"
    ) {
        self.name = name
        self.redis = redis
        self.biomes = biomes
        self.stream = stream
        self.consumer = consumer
        self.sourceFile = sourceFile
    }
}

/// How a region's streams are bounded.
public struct StreamConfig: Sendable, Equatable {
    /// Approximate cap: `XADD … MAXLEN ~ maxlen`.
    public var maxlen = 5000
    /// Shed spawns for the region above this share of Redis `maxmemory`.
    public var memoryHighWater = 0.9

    public init(maxlen: Int = 5000, memoryHighWater: Double = 0.9) {
        self.maxlen = maxlen
        self.memoryHighWater = memoryHighWater
    }
}

/// How a region's consumers read, retry and give up.
public struct ConsumerConfig: Sendable, Equatable {
    /// The longest a handler may take for one entry before it counts as failed.
    public static let handlerTimeoutMs = 5000

    public var group = "treasure"
    public var maxInFlight = 32
    public var blockMs = 2000
    public var backoff = BackoffPolicy()
    public var maxDeliveries = 5
    public var claimIdleMs = 30000

    public init() {}
}
