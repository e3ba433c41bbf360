import Atomics
import BusDomain
import BusOps
import BusRegions
import Synchronization

/// What the gateway decides from its samples of the regions, shared by its loops: which regions
/// shed spawns (the memory guard) and the recent samples behind the "lag keeps growing" rule.
/// Read per spawn without a lock (one relaxed atomic load); written by the sampling loop.
final class RegionControl: Sendable {
    /// Per region (catalog index): spawns are refused because Redis memory is above high water.
    private let shedding: [ManagedAtomic<Bool>]
    /// The latest samples, oldest first. Locked once per sample and per `/v1/regions`, never per
    /// spawn.
    private let recent = Mutex<[RegionsSnapshot]>([])
    private static let lagSamples = HealthThresholds().lagGrowthSamples

    init(regions: Int) {
        shedding = (0..<regions).map { _ in ManagedAtomic(false) }
    }

    /// Whether region `index` sheds spawns now.
    func isShedding(_ index: Int) -> Bool { shedding[index].load(ordering: .relaxed) }

    /// Every region's shedding state, in catalog order.
    var sheddingStates: [Bool] { shedding.map { $0.load(ordering: .relaxed) } }

    /// A region whose shedding state a sample changed.
    struct Change: Equatable {
        let region: Int
        let shedding: Bool
        /// The memory ratio that decided it, if Redis reported one.
        let ratio: Double?
    }

    /// Moves the memory guard of every region on a new sample, remembers the sample (with the
    /// shedding states it led to) for the lag rule, and returns what changed. Sampling loop only.
    func observe(_ snapshot: RegionsSnapshot, catalog: RegionCatalog) -> (changes: [Change], sample: RegionsSnapshot) {
        var changes: [Change] = []
        var sample = snapshot
        for (index, status) in snapshot.regions.enumerated() {
            let was = isShedding(index)
            let now = MemoryGuard.shedding(
                now: was, ratio: status.memoryRatio, highWater: catalog.regions[index].stream.memoryHighWater)
            if now != was {
                shedding[index].store(now, ordering: .relaxed)
                changes.append(Change(region: index, shedding: now, ratio: status.memoryRatio))
            }
            sample.regions[index].shedding = now
        }
        recent.withLock { $0 = Array(($0 + [sample]).suffix(Self.lagSamples + 1)) }
        return (changes, sample)
    }

    /// Groups whose lag rose in each of the last samples: a judgement on consecutive samples,
    /// which a fresh snapshot taken between two of them cannot make.
    var lagBreaches: [Breach] {
        let samples = recent.withLock { $0 }
        guard let latest = samples.last else { return [] }
        return SnapshotHealth.breaches(latest, history: Array(samples.dropLast())).filter {
            if case .lagGrowing = $0 { return true }
            return false
        }
    }
}
