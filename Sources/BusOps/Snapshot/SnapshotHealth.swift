import BusDomain

/// The thresholds that mark a row in `status` and fire alerts.
package struct HealthThresholds: Sendable, Equatable {
    package var fill = 0.6
    package var memory = 0.75
    /// Consecutive samples of growing lag that mark a group.
    package var lagGrowthSamples = 3

    package init() {}
}

/// Why a row is marked.
package enum Breach: Sendable, Equatable, CustomStringConvertible {
    case regionDown(region: String)
    case memory(region: String, ratio: Double)
    case fill(biome: BiomeID, ratio: Double)
    case lagGrowing(biome: BiomeID, group: String)
    case stalePending(biome: BiomeID, group: String, ageMs: Int64)
    case deadLetters(biome: BiomeID, count: Int)

    package var description: String {
        switch self {
        case .regionDown(let region): "region \(region) is down"
        case .memory(let region, let ratio): "region \(region) memory at \(Int((ratio * 100).rounded())) %"
        case .fill(let biome, let ratio): "biome \(biome) stream at \(Int((ratio * 100).rounded())) % of maxlen"
        case .lagGrowing(let biome, let group): "biome \(biome) group \(group) lag keeps growing"
        case .stalePending(let biome, let group, let age):
            "biome \(biome) group \(group) oldest pending is \(age / 1000) s old"
        case .deadLetters(let biome, let count): "biome \(biome) has \(count) dead letters"
        }
    }
}

/// Marks rows of a snapshot against thresholds; `history` is earlier snapshots, oldest first,
/// for the growing-lag rule.
package enum SnapshotHealth {
    package static func breaches(
        _ snapshot: RegionsSnapshot, history: [RegionsSnapshot] = [], thresholds: HealthThresholds = .init()
    ) -> [Breach] {
        var breaches: [Breach] = []
        for region in snapshot.regions {
            guard region.up else {
                breaches.append(.regionDown(region: region.name))
                continue
            }
            if let ratio = region.memoryRatio, ratio >= thresholds.memory {
                breaches.append(.memory(region: region.name, ratio: ratio))
            }
            for biome in region.biomes {
                if biome.fill >= thresholds.fill { breaches.append(.fill(biome: biome.biome, ratio: biome.fill)) }
                if biome.deadLetters > 0 { breaches.append(.deadLetters(biome: biome.biome, count: biome.deadLetters)) }
                for group in biome.groups {
                    if let age = group.oldestPendingAgeMs, age > Int64(region.claimIdleMs) {
                        breaches.append(.stalePending(biome: biome.biome, group: group.name, ageMs: age))
                    }
                    if lagGrew(
                        biome: biome.biome, group: group.name, now: group.lag, history: history,
                        samples: thresholds.lagGrowthSamples)
                    {
                        breaches.append(.lagGrowing(biome: biome.biome, group: group.name))
                    }
                }
            }
        }
        return breaches
    }

    /// True when the group's lag rose in each of the last `samples` steps.
    static func lagGrew(biome: BiomeID, group: String, now: Int?, history: [RegionsSnapshot], samples: Int) -> Bool {
        let series = (history.map { lag(in: $0, biome: biome, group: group) } + [now]).suffix(samples + 1)
        guard series.count == samples + 1 else { return false }
        let values = series.compactMap { $0 }
        guard values.count == series.count else { return false }
        return zip(values, values.dropFirst()).allSatisfy { $0 < $1 }
    }

    private static func lag(in snapshot: RegionsSnapshot, biome: BiomeID, group: String) -> Int? {
        for region in snapshot.regions {
            for status in region.biomes where status.biome == biome {
                return status.groups.first { $0.name == group }?.lag
            }
        }
        return nil
    }
}
