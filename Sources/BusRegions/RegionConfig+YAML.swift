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
    ) throws(RegionConfigError) -> RegionConfig {
        let reader = YAMLReader(file: file, judgesConsumer: validation == .full)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw RegionConfigError(file: file, key: "", message: "file is empty")
            }
            root = node
        } catch let error as RegionConfigError {
            throw error
        } catch {
            throw RegionConfigError(file: file, key: "", message: "not valid YAML: \(error)")
        }

        let top = try reader.mapping(root, path: "", allowed: ["name", "redis", "biomes", "stream", "consumer"])
        let name = try reader.string(top["name"], path: "name")
        guard Identifiers.isValidRegionName(name) else {
            throw reader.error("name", "expected 1 to 63 characters from [a-z0-9-], got \"\(name)\"", top["name"])
        }
        let redisURL = try reader.string(top["redis"], path: "redis")
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
                streamNode, path: "stream", allowed: ["maxlen", "memory_high_water", "idempotency_ttl_s", "durability"])
            region.stream.maxlen =
                try reader.int(stream["maxlen"], path: "stream.maxlen", range: 1...1_000_000_000)
                ?? region.stream.maxlen
            region.stream.memoryHighWater =
                try reader.double(stream["memory_high_water"], path: "stream.memory_high_water", range: 0.01...1.0)
                ?? region.stream.memoryHighWater
            region.stream.idempotencyTTLSeconds =
                try reader.int(stream["idempotency_ttl_s"], path: "stream.idempotency_ttl_s", range: 1...604_800)
                ?? region.stream.idempotencyTTLSeconds
            if let durabilityNode = stream["durability"] {
                let durability = try reader.mapping(
                    durabilityNode, path: "stream.durability", allowed: ["replicas", "timeout_ms"])
                region.stream.durability.replicas =
                    try reader.int(durability["replicas"], path: "stream.durability.replicas", range: 0...5)
                    ?? region.stream.durability.replicas
                region.stream.durability.timeoutMs =
                    try reader.int(durability["timeout_ms"], path: "stream.durability.timeout_ms", range: 1...10_000)
                    ?? region.stream.durability.timeoutMs
            }
        }
        if let consumerNode = top["consumer"] {
            region.consumer = try reader.consumer(consumerNode)
        }
        return region
    }
}

/// Typed access to a YAML tree, producing `RegionConfigError`s that name the key and line.
private struct YAMLReader {
    let file: String
    /// False: `consumer.*` values are read with their types checked, but not judged.
    let judgesConsumer: Bool

    func error(_ path: String, _ message: String, _ node: Node? = nil) -> RegionConfigError {
        let location = node?.mark.map { " (line \($0.line))" } ?? ""
        return RegionConfigError(file: file, key: path, message: message + location)
    }

    func mapping(_ node: Node, path: String, allowed: Set<String>) throws(RegionConfigError) -> [String: Node] {
        guard case .mapping(let mapping) = node else {
            throw error(path.isEmpty ? "" : path, "expected a mapping of keys", node)
        }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else { throw error(path, "keys must be plain strings", keyNode) }
            let key = scalar.string
            let keyPath = path.isEmpty ? key : "\(path).\(key)"
            guard allowed.contains(key) else {
                throw error(
                    keyPath, "unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))", keyNode)
            }
            guard result[key] == nil else { throw error(keyPath, "key appears twice", keyNode) }
            result[key] = value
        }
        return result
    }

    func string(_ node: Node?, path: String) throws(RegionConfigError) -> String {
        guard let node else { throw error(path, "required key is missing") }
        guard case .scalar(let scalar) = node, node.hasTag(.str) else {
            throw error(path, "expected a string", node)
        }
        return scalar.string
    }

    /// `judged` false: only the type is checked (a key this process does not use).
    func int(_ node: Node?, path: String, range: ClosedRange<Int>, judged: Bool = true) throws(RegionConfigError)
        -> Int?
    {
        guard let node else { return nil }
        guard node.hasTag(.int), let value = node.int else {
            throw error(path, "expected an integer from \(range.lowerBound) to \(range.upperBound)", node)
        }
        guard !judged || range.contains(value) else {
            throw error(path, "expected an integer from \(range.lowerBound) to \(range.upperBound), got \(value)", node)
        }
        return value
    }

    func double(_ node: Node?, path: String, range: ClosedRange<Double>, judged: Bool = true)
        throws(RegionConfigError) -> Double?
    {
        guard let node else { return nil }
        guard node.hasTag(.float) || node.hasTag(.int), let value = node.float, value.isFinite else {
            throw error(path, "expected a number from \(range.lowerBound) to \(range.upperBound)", node)
        }
        guard !judged || range.contains(value) else {
            throw error(path, "expected a number from \(range.lowerBound) to \(range.upperBound), got \(value)", node)
        }
        return value
    }

    func biomes(_ node: Node?) throws(RegionConfigError) -> [BiomeID] {
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

    func consumer(_ node: Node) throws(RegionConfigError) -> ConsumerConfig {
        let map = try mapping(
            node, path: "consumer",
            allowed: [
                "group", "max_in_flight", "block_ms", "backoff", "max_deliveries", "claim_idle_ms",
                "handler_timeout_ms",
            ])
        let judged = judgesConsumer
        var consumer = ConsumerConfig()
        if let groupNode = map["group"] {
            let group = try string(groupNode, path: "consumer.group")
            guard !judged || Identifiers.isValidChestID(group) else {
                throw error(
                    "consumer.group", "expected 1 to 64 characters from [A-Za-z0-9_.:-], got \"\(group)\"", groupNode)
            }
            consumer.group = group
        }
        consumer.maxInFlight =
            try int(map["max_in_flight"], path: "consumer.max_in_flight", range: 1...10_000, judged: judged)
            ?? consumer.maxInFlight
        consumer.blockMs =
            try int(map["block_ms"], path: "consumer.block_ms", range: 1...300_000, judged: judged) ?? consumer.blockMs
        consumer.maxDeliveries =
            try int(map["max_deliveries"], path: "consumer.max_deliveries", range: 1...1000, judged: judged)
            ?? consumer.maxDeliveries
        consumer.claimIdleMs =
            try int(map["claim_idle_ms"], path: "consumer.claim_idle_ms", range: 1...86_400_000, judged: judged)
            ?? consumer.claimIdleMs
        if let backoffNode = map["backoff"] {
            let backoff = try mapping(
                backoffNode, path: "consumer.backoff", allowed: ["initial_ms", "multiplier", "max_ms", "jitter"])
            var policy = consumer.backoff
            policy.initialMs =
                try int(
                    backoff["initial_ms"], path: "consumer.backoff.initial_ms", range: 1...3_600_000, judged: judged)
                ?? policy.initialMs
            policy.multiplier =
                try double(
                    backoff["multiplier"], path: "consumer.backoff.multiplier", range: 1.0...100.0, judged: judged)
                ?? policy.multiplier
            policy.maxMs =
                try int(backoff["max_ms"], path: "consumer.backoff.max_ms", range: 1...86_400_000, judged: judged)
                ?? policy.maxMs
            policy.jitter =
                try double(backoff["jitter"], path: "consumer.backoff.jitter", range: 0.0...1.0, judged: judged)
                ?? policy.jitter
            consumer.backoff = policy
        }
        let givenTimeout = try int(
            map["handler_timeout_ms"], path: "consumer.handler_timeout_ms", range: 1...600_000, judged: judged)
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

extension Node {
    /// True when the node's resolved tag is `name` (`!!int`, `!!str` …).
    fileprivate func hasTag(_ name: Tag.Name) -> Bool {
        tag.description == name.rawValue
    }
}
