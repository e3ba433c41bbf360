import BusConfigFile
import BusDomain
import Yams

/// Which rules of a region file a process applies. Every process refuses unknown keys and
/// wrong types; only the processes that use a key judge its value (the contract's "Consumer
/// timing": a gateway never refuses a region over `consumer.*` tuning it does not use).
package enum RegionValidation: Sendable, Equatable {
    /// Everything, `consumer.*` ranges and timing rules included: consumers, `up`, `deploy`.
    case full
    /// Everything but the values of `consumer.*` (their ranges and the rules between them):
    /// processes that never run a consumer (gateway, status, dlq).
    case exceptConsumerTuning
}

extension RegionConfig {
    /// Parses one region file strictly: unknown keys, wrong types and out-of-range values are
    /// errors naming `file` and the key. With `.exceptConsumerTuning`, `consumer.*` values are
    /// taken as written (types still checked) for a process that does not run consumers.
    package static func parse(
        yaml text: String, file: String, validation: RegionValidation = .full
    ) throws(ConfigFileError) -> RegionConfig {
        let reader = ConfigFileReader(file: file)
        let root = try reader.root(of: text)

        let top = try reader.mapping(root, key: "", allowed: ["name", "redis", "biomes", "stream", "consumer"])
        let name = try reader.string(top["name"], key: "name")
        guard Identifiers.isValidRegionName(name) else {
            throw reader.error("name", "expected 1 to 63 characters from [a-z0-9-], got \"\(name)\"", top["name"])
        }
        let redisURL = try reader.string(top["redis"], key: "redis")
        let redis: RedisAddress
        do {
            redis = try RedisAddress(url: redisURL)
        } catch {
            throw reader.error(
                "redis",
                "expected redis://host:port/db or redis+sentinel://host:port[,host:port…]/<master-name>, got \"\(RedisAddress.redacted(url: redisURL))\": \(error.reason)",
                top["redis"])
        }
        let biomes = try reader.biomes(top["biomes"])

        var region = RegionConfig(name: name, redis: redis, biomes: biomes, sourceFile: file)
        if let streamNode = top["stream"] {
            let stream = try reader.mapping(
                streamNode, key: "stream", allowed: ["maxlen", "memory_high_water", "idempotency_ttl_s", "durability"])
            region.stream.maxlen =
                try reader.int(stream["maxlen"], key: "stream.maxlen", range: 1...1_000_000_000)
                ?? region.stream.maxlen
            region.stream.memoryHighWater =
                try reader.double(stream["memory_high_water"], key: "stream.memory_high_water", range: 0.01...1.0)
                ?? region.stream.memoryHighWater
            region.stream.idempotencyTTLSeconds =
                try reader.int(stream["idempotency_ttl_s"], key: "stream.idempotency_ttl_s", range: 1...604_800)
                ?? region.stream.idempotencyTTLSeconds
            if let durabilityNode = stream["durability"] {
                let durability = try reader.mapping(
                    durabilityNode, key: "stream.durability", allowed: ["replicas", "timeout_ms"])
                region.stream.durability.replicas =
                    try reader.int(durability["replicas"], key: "stream.durability.replicas", range: 0...5)
                    ?? region.stream.durability.replicas
                region.stream.durability.timeoutMs =
                    try reader.int(durability["timeout_ms"], key: "stream.durability.timeout_ms", range: 1...10_000)
                    ?? region.stream.durability.timeoutMs
            }
        }
        if let consumerNode = top["consumer"] {
            region.consumer = try reader.consumer(consumerNode, judged: validation == .full)
        }
        return region
    }
}

/// The region file's own values, read through the strict YAML access every config file shares.
extension ConfigFileReader {
    fileprivate func biomes(_ node: Node?) throws(ConfigFileError) -> [BiomeID] {
        guard let node else { throw error("biomes", "required key is missing") }
        guard case .sequence(let sequence) = node else {
            throw error("biomes", "expected a list of biome ids", node)
        }
        var biomes: [BiomeID] = []
        for element in sequence {
            guard element.hasTag(.int), let value = element.int, let biome = BiomeID(Int64(value)) else {
                throw error(
                    "biomes",
                    "expected integers from 0 to 2147483647, got \"\(element.scalar?.string ?? "a collection")\"",
                    element)
            }
            guard !biomes.contains(biome) else { throw error("biomes", "biome \(biome) is listed twice", element) }
            biomes.append(biome)
        }
        guard !biomes.isEmpty else { throw error("biomes", "expected at least one biome", node) }
        return biomes
    }

    /// `judged` false: `consumer.*` values are read with their types checked, but not judged.
    fileprivate func consumer(_ node: Node, judged: Bool) throws(ConfigFileError) -> ConsumerConfig {
        let map = try mapping(
            node, key: "consumer",
            allowed: [
                "group", "max_in_flight", "block_ms", "backoff", "max_deliveries", "claim_idle_ms",
                "handler_timeout_ms",
            ])
        var consumer = ConsumerConfig()
        if let groupNode = map["group"] {
            let group = try string(groupNode, key: "consumer.group")
            guard !judged || Identifiers.isValidChestID(group) else {
                throw error(
                    "consumer.group", "expected 1 to 64 characters from [A-Za-z0-9_.:-], got \"\(group)\"", groupNode)
            }
            consumer.group = group
        }
        consumer.maxInFlight =
            try int(map["max_in_flight"], key: "consumer.max_in_flight", range: 1...10_000, checksRange: judged)
            ?? consumer.maxInFlight
        consumer.blockMs =
            try int(map["block_ms"], key: "consumer.block_ms", range: 1...300_000, checksRange: judged)
            ?? consumer.blockMs
        consumer.maxDeliveries =
            try int(map["max_deliveries"], key: "consumer.max_deliveries", range: 1...1000, checksRange: judged)
            ?? consumer.maxDeliveries
        consumer.claimIdleMs =
            try int(map["claim_idle_ms"], key: "consumer.claim_idle_ms", range: 1...86_400_000, checksRange: judged)
            ?? consumer.claimIdleMs
        if let backoffNode = map["backoff"] {
            let backoff = try mapping(
                backoffNode, key: "consumer.backoff", allowed: ["initial_ms", "multiplier", "max_ms", "jitter"])
            var policy = consumer.backoff
            policy.initialMs =
                try int(
                    backoff["initial_ms"], key: "consumer.backoff.initial_ms", range: 1...3_600_000, checksRange: judged
                )
                ?? policy.initialMs
            policy.multiplier =
                try double(
                    backoff["multiplier"], key: "consumer.backoff.multiplier", range: 1.0...100.0, checksRange: judged)
                ?? policy.multiplier
            policy.maxMs =
                try int(backoff["max_ms"], key: "consumer.backoff.max_ms", range: 1...86_400_000, checksRange: judged)
                ?? policy.maxMs
            policy.jitter =
                try double(backoff["jitter"], key: "consumer.backoff.jitter", range: 0.0...1.0, checksRange: judged)
                ?? policy.jitter
            consumer.backoff = policy
        }
        let givenTimeout = try int(
            map["handler_timeout_ms"], key: "consumer.handler_timeout_ms", range: 1...600_000, checksRange: judged)
        consumer.handlerTimeoutMs =
            givenTimeout
            ?? ConsumerConfig.derivedHandlerTimeoutMs(
                claimIdleMs: consumer.claimIdleMs, backoff: consumer.backoff, blockMs: consumer.blockMs)
        if judged, let violation = consumer.timingViolation {
            let node =
                violation.key == "consumer.backoff.max_ms" ? map["backoff"] : map[String(violation.key.dropFirst(9))]
            throw error(violation.key, violation.message, node)
        }
        return consumer
    }
}
