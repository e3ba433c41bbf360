import BusDomain
import BusOps

extension RegionsSnapshot {
    /// The `biomebus status` table: one row per biome; marked rows start with `!`.
    func table(breaches: [Breach] = []) -> String {
        let header = [
            "", "REGION", "BIOME", "LENGTH", "FILL", "GROUP", "PENDING", "LAG", "CONSUMERS", "OLDEST", "DLQ",
            "IDEMPOTENCY",
            "MEMORY", "ROLE", "MASTER", "REPLICAS",
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
                rows.append(["!", region.name, "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "down", "-", "-", "-"])
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
                        group?.oldestPendingAgeMs.map { "\($0 / 1000)s" } ?? "-", String(biome.deadLetters),
                        "\(biome.idempotencyKeys)/\(Self.bytesText(biome.idempotencyBytes))", memory,
                        region.role ?? "-", region.master ?? "-", String(region.replicas.count),
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

extension RegionsSnapshot {
    /// Bytes for a narrow column: `512B`, `1.5KiB`, `3.2MiB`, `1.1GiB`.
    static func bytesText(_ bytes: Int64) -> String {
        let units = ["KiB", "MiB", "GiB"]
        guard bytes >= 1024 else { return "\(bytes)B" }
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return "\((value * 10).rounded() / 10)\(units[unit])"
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
