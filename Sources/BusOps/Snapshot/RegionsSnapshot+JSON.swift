import BusDomain
import BusJSON

extension RegionsSnapshot {
    /// The JSON both `/v1/regions` and `status --json` print.
    package func json(breaches: [Breach] = []) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("taken_at_ms", takenAtMs)
        writer.key("healthy")
        writer.bool(breaches.isEmpty)
        writer.key("breaches")
        writer.beginArray()
        for breach in breaches { writer.string(breach.description) }
        writer.endArray()
        writer.key("regions")
        writer.beginArray()
        for region in regions {
            writer.beginObject()
            writer.field("name", region.name)
            writer.field("redis", region.redis)
            writer.key("up")
            writer.bool(region.up)
            writer.key("state")
            writer.string(region.up ? (region.shedding ? "shedding" : "up") : "down")
            writer.key("error")
            if let error = region.error { writer.string(error) } else { writer.null() }
            writer.key("role")
            if let role = region.role { writer.string(role) } else { writer.null() }
            writer.key("master")
            if let master = region.master { writer.string(master) } else { writer.null() }
            writer.key("replicas")
            writer.beginArray()
            for replica in region.replicas { writer.string(replica) }
            writer.endArray()
            writer.key("used_memory")
            if let used = region.usedMemory { writer.integer(used) } else { writer.null() }
            writer.key("max_memory")
            if let max = region.maxMemory { writer.integer(max) } else { writer.null() }
            writer.key("memory_ratio")
            if let ratio = region.memoryRatio { writer.number(ratio) } else { writer.null() }
            writer.field("idempotency_keys", region.idempotencyKeys)
            writer.field("idempotency_bytes", region.idempotencyBytes)
            writer.key("biomes")
            writer.beginArray()
            for biome in region.biomes {
                writer.beginObject()
                writer.field("biome_id", Int64(biome.biome.value))
                writer.field("stream", biome.stream)
                writer.field("length", biome.length)
                writer.field("maxlen", biome.maxlen)
                writer.key("fill")
                writer.number(biome.fill)
                writer.field("dead_letters", biome.deadLetters)
                writer.field("idempotency_keys", biome.idempotencyKeys)
                writer.field("idempotency_bytes", biome.idempotencyBytes)
                writer.key("groups")
                writer.beginArray()
                for group in biome.groups {
                    writer.beginObject()
                    writer.field("name", group.name)
                    writer.field("pending", group.pending)
                    writer.key("lag")
                    if let lag = group.lag { writer.integer(lag) } else { writer.null() }
                    writer.field("consumers", group.consumers)
                    writer.key("oldest_pending_age_ms")
                    if let age = group.oldestPendingAgeMs { writer.integer(age) } else { writer.null() }
                    writer.endObject()
                }
                writer.endArray()
                writer.endObject()
            }
            writer.endArray()
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.text
    }
}
