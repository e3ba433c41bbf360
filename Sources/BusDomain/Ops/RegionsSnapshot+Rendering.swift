extension RegionsSnapshot {
    /// The JSON both `/v1/regions` and `status --json` print.
    public func json(breaches: [Breach] = []) -> String {
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
            writer.key("used_memory")
            if let used = region.usedMemory { writer.integer(used) } else { writer.null() }
            writer.key("max_memory")
            if let max = region.maxMemory { writer.integer(max) } else { writer.null() }
            writer.key("memory_ratio")
            if let ratio = region.memoryRatio { writer.number(ratio) } else { writer.null() }
            writer.key("biomes")
            writer.beginArray()
            for biome in region.biomes {
                writer.beginObject()
                writer.field("biome_id", biome.biome.value)
                writer.field("stream", biome.stream)
                writer.field("length", biome.length)
                writer.field("maxlen", biome.maxlen)
                writer.key("fill")
                writer.number(biome.fill)
                writer.field("dead_letters", biome.deadLetters)
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

    /// The `biomebus status` table: one row per biome; marked rows start with `!`.
    public func table(breaches: [Breach] = []) -> String {
        let header = [
            "", "REGION", "BIOME", "LENGTH", "FILL", "GROUP", "PENDING", "LAG", "CONSUMERS", "OLDEST", "DLQ", "MEMORY",
        ]
        var rows: [[String]] = [header]
        for region in regions {
            let memory = region.memoryRatio.map { "\(Int(($0 * 100).rounded()))%" } ?? (region.up ? "-" : "down")
            let regionMarked = breaches.contains {
                if case .regionDown(let name) = $0 { return name == region.name }
                if case .memory(let name, _) = $0 { return name == region.name }
                return false
            }
            if !region.up {
                rows.append(["!", region.name, "-", "-", "-", "-", "-", "-", "-", "-", "-", "down"])
                continue
            }
            for biome in region.biomes {
                let marked = regionMarked || breaches.contains { $0.biome == biome.biome }
                let groups = biome.groups.isEmpty ? [nil] : biome.groups.map { Optional($0) }
                for group in groups {
                    rows.append([
                        marked ? "!" : "", region.name + (region.shedding ? " (shedding)" : ""),
                        String(biome.biome.value),
                        String(biome.length), "\(Int((biome.fill * 100).rounded()))%", group?.name ?? "-",
                        group.map { String($0.pending) } ?? "-", group?.lag.map(String.init) ?? "-",
                        group.map { String($0.consumers) } ?? "-",
                        group?.oldestPendingAgeMs.map { "\($0 / 1000)s" } ?? "-", String(biome.deadLetters), memory,
                    ])
                }
            }
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var text = ""
        for row in rows {
            text +=
                zip(row, widths).map { $0.padding(toLength: $1) }.joined(separator: "  ").trailingSpacesRemoved() + "\n"
        }
        if !breaches.isEmpty {
            text += "\n" + breaches.map { "! \($0)" }.joined(separator: "\n") + "\n"
        }
        return text
    }
}

extension Breach {
    fileprivate var biome: BiomeID? {
        switch self {
        case .fill(let biome, _), .lagGrowing(let biome, _), .stalePending(let biome, _, _), .deadLetters(let biome, _):
            biome
        case .regionDown, .memory: nil
        }
    }
}

extension String {
    fileprivate func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }

    fileprivate func trailingSpacesRemoved() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
