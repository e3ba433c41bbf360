import Yams

extension RegionConfig {
    /// The region as a region file, every key spelled out; `parse(yaml:file:)` reads it back.
    /// The Redis password, if any, is written as given: keep such files private.
    package var yaml: String {
        YAMLEmission.document(yamlNode)
    }

    /// The region file as a YAML tree, keys in the contract's order; `biomes` and `backoff`
    /// in flow style, as people write them.
    var yamlNode: Node {
        let backoff = consumer.backoff
        let backoffNode = Node(
            [
                ("initial_ms", .plain(backoff.initialMs, .int)), ("multiplier", .plain(backoff.multiplier, .float)),
                ("max_ms", .plain(backoff.maxMs, .int)), ("jitter", .plain(backoff.jitter, .float)),
            ], .implicit, .flow)
        let consumerNode: Node = [
            "group": YAMLEmission.scalar(consumer.group),
            "max_in_flight": .plain(consumer.maxInFlight, .int),
            "block_ms": .plain(consumer.blockMs, .int),
            "backoff": backoffNode,
            "max_deliveries": .plain(consumer.maxDeliveries, .int),
            "claim_idle_ms": .plain(consumer.claimIdleMs, .int),
            "handler_timeout_ms": .plain(consumer.handlerTimeoutMs, .int),
        ]
        return [
            "name": YAMLEmission.scalar(name),
            "redis": YAMLEmission.scalar(redis.urlWithPassword),
            "biomes": .sequence(.init(biomes.map { .plain($0.value, .int) }, .implicit, .flow)),
            "stream": [
                "maxlen": .plain(stream.maxlen, .int),
                "memory_high_water": .plain(stream.memoryHighWater, .float),
                "idempotency_ttl_s": .plain(stream.idempotencyTTLSeconds, .int),
                "durability": Node(
                    [
                        ("replicas", .plain(stream.durability.replicas, .int)),
                        ("timeout_ms", .plain(stream.durability.timeoutMs, .int)),
                    ], .implicit, .flow),
            ],
            "consumer": consumerNode,
        ]
    }
}

extension Node {
    /// A number written as is, plain.
    fileprivate static func plain(_ value: some LosslessStringConvertible, _ tag: Tag.Name) -> Node {
        YAMLEmission.plain(value, tag)
    }
}
