import BusDomain

/// One region from `regions/<file>.yaml`: its Redis, its biomes and their stream and consumer
/// settings. Defaults are the contract's.
package struct RegionConfig: Sendable, Equatable {
    /// `[a-z0-9-]{1,63}`, unique across regions.
    package var name: String
    package var redis: RedisAddress
    /// Unique across all regions.
    package var biomes: [BiomeID]
    package var stream: StreamConfig
    package var consumer: ConsumerConfig
    /// The file the region came from, for messages.
    package var sourceFile: String

    package init(
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
package struct StreamConfig: Sendable, Equatable {
    /// Approximate cap: `XADD … MAXLEN ~ maxlen`.
    package var maxlen = 5000
    /// Shed spawns for the region above this share of Redis `maxmemory`.
    package var memoryHighWater = 0.9
    /// How long an idempotency key's record lives (`stream.idempotency_ttl_s`, 1 … 604800).
    package var idempotencyTTLSeconds = 86400
    /// How many replicas must have each append before it is acknowledged (`stream.durability`).
    package var durability = StreamDurability()

    package init(
        maxlen: Int = 5000, memoryHighWater: Double = 0.9, idempotencyTTLSeconds: Int = 86400,
        durability: StreamDurability = .init()
    ) {
        self.maxlen = maxlen
        self.memoryHighWater = memoryHighWater
        self.idempotencyTTLSeconds = idempotencyTTLSeconds
        self.durability = durability
    }
}

/// `stream.durability`: with `replicas` N ≥ 1 the gateway follows each append with
/// `WAIT N timeout_ms` and accepts it only when N replicas acknowledged it. Redis replication
/// stays asynchronous: this narrows what a failover can lose, it is no consensus.
package struct StreamDurability: Sendable, Equatable {
    /// Replicas that must acknowledge each append, 0 … 5 (0: no `WAIT`).
    package var replicas = 0
    /// How long `WAIT` may wait for them, 1 … 10000 ms.
    package var timeoutMs = 200

    package init(replicas: Int = 0, timeoutMs: Int = 200) {
        self.replicas = replicas
        self.timeoutMs = timeoutMs
    }
}

/// How a region's consumers read, retry and give up.
package struct ConsumerConfig: Sendable, Equatable {
    /// `handler_timeout_ms` when the region file does not give it (and the timing rule allows).
    package static let defaultHandlerTimeoutMs = 5000
    /// The least a derived handler timeout can be.
    package static let minimumDerivedHandlerTimeoutMs = 100

    package var group = "treasure"
    package var maxInFlight = 32
    package var blockMs = 2000
    package var backoff = BackoffPolicy()
    package var maxDeliveries = 5
    package var claimIdleMs = 30000
    /// The longest one handler call may run before it counts as a failed delivery.
    package var handlerTimeoutMs = ConsumerConfig.defaultHandlerTimeoutMs

    package init() {}

    /// The handler timeout of a region file that does not set one: the default, unless that
    /// would break the timing rule; then what is left of `claim_idle_ms` after the longest
    /// retry wait and one blocking read, never below 100 ms (the contract's "Consumer timing").
    package static func derivedHandlerTimeoutMs(claimIdleMs: Int, backoff: BackoffPolicy, blockMs: Int) -> Int {
        let longestWait = backoff.longestDelayMs
        guard claimIdleMs <= longestWait + defaultHandlerTimeoutMs else { return defaultHandlerTimeoutMs }
        return max(minimumDerivedHandlerTimeoutMs, claimIdleMs - longestWait - blockMs)
    }

    /// The first rule between keys this configuration breaks, as the key to blame and what is
    /// wrong; nil when it is fit to run a consumer. Only processes that run consumers judge
    /// this (a gateway reads `consumer.*` but never refuses a region over it).
    package var timingViolation: (key: String, message: String)? {
        if backoff.maxMs < backoff.initialMs {
            return (
                "consumer.backoff.max_ms", "must be at least initial_ms (\(backoff.initialMs)), got \(backoff.maxMs)"
            )
        }
        // A consumer blocked in XREADGROUP looks idle to Redis for up to block_ms: it must not
        // look gone (idle beyond claim_idle_ms) while it waits.
        if blockMs >= claimIdleMs {
            return ("consumer.block_ms", "must be less than claim_idle_ms (\(claimIdleMs)), got \(blockMs)")
        }
        // A retry waiting out its backoff (jitter included), or a handler still running, must
        // not look dead: its entry would be reclaimed and handled twice at once.
        let longestWait = backoff.longestDelayMs
        if claimIdleMs <= longestWait + handlerTimeoutMs {
            return (
                "consumer.claim_idle_ms",
                "must exceed backoff.max_ms × (1 + jitter) + handler_timeout_ms (\(longestWait) + \(handlerTimeoutMs) ms), got \(claimIdleMs)"
            )
        }
        return nil
    }
}
