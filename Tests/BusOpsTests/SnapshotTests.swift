import BusDomain
import Testing

@testable import BusOps

@Suite("Ops snapshot: health marks and JSON")
struct SnapshotTests {
    private func snapshot(
        lag: Int? = 0, length: Int = 10, used: Int64 = 10, max: Int64 = 100, up: Bool = true, age: Int64? = nil
    )
        -> RegionsSnapshot
    {
        let group = GroupStatus(
            name: "treasure", pending: age == nil ? 0 : 1, lag: lag, consumers: 1, oldestPendingAgeMs: age)
        let biome = BiomeStatus(biome: BiomeID(53)!, length: length, maxlen: 100, groups: [group])
        let region = RegionStatus(
            name: "north", redis: "redis://h:1/0", up: up, usedMemory: used, maxMemory: max, memoryHighWater: 0.9,
            claimIdleMs: 30000, biomes: up ? [biome] : [])
        return RegionsSnapshot(takenAtMs: 0, regions: [region])
    }

    @Test("a healthy snapshot has no breaches")
    func healthy() {
        #expect(SnapshotHealth.breaches(snapshot()).isEmpty)
    }

    @Test("each threshold marks its row")
    func thresholds() {
        #expect(SnapshotHealth.breaches(snapshot(length: 60)) == [.fill(biome: BiomeID(53)!, ratio: 0.6)])
        #expect(SnapshotHealth.breaches(snapshot(used: 75)) == [.memory(region: "north", ratio: 0.75)])
        #expect(SnapshotHealth.breaches(snapshot(up: false)) == [.regionDown(region: "north")])
        #expect(
            SnapshotHealth.breaches(snapshot(age: 30_001))
                == [.stalePending(biome: BiomeID(53)!, group: "treasure", ageMs: 30_001)])
        #expect(SnapshotHealth.breaches(snapshot(age: 30_000)).isEmpty)
    }

    @Test("lag growing for three samples marks the group; flat or shrinking lag does not")
    func lagGrowth() {
        let history = [snapshot(lag: 1), snapshot(lag: 2), snapshot(lag: 3)]
        #expect(
            SnapshotHealth.breaches(snapshot(lag: 4), history: history) == [
                .lagGrowing(biome: BiomeID(53)!, group: "treasure")
            ])
        #expect(SnapshotHealth.breaches(snapshot(lag: 3), history: history).isEmpty)
        #expect(SnapshotHealth.breaches(snapshot(lag: 4), history: Array(history.suffix(2))).isEmpty)
    }

    @Test("the JSON names every field of the snapshot and says whether it is healthy")
    func json() {
        let json = snapshot().json()
        #expect(json.contains(#""length":10"#) && json.contains(#""healthy":true"#))
        #expect(json.contains(#""state":"up""#) && json.contains(#""memory_ratio":0.1"#))
        let marked = snapshot(length: 70).json(breaches: SnapshotHealth.breaches(snapshot(length: 70)))
        #expect(marked.contains(#""healthy":false"#))
        #expect(marked.contains(#""breaches":["biome 53 stream at 70 % of maxlen"]"#))
    }

    @Test("idempotency records are counted per biome and summed per region")
    func idempotencyFigures() {
        var figures = snapshot()
        figures.regions[0].biomes[0].idempotencyKeys = 3
        figures.regions[0].biomes[0].idempotencyBytes = 300
        var second = figures.regions[0].biomes[0]
        second.biome = BiomeID(54)!
        second.idempotencyKeys = 2
        second.idempotencyBytes = 200
        figures.regions[0].biomes.append(second)
        #expect(figures.regions[0].idempotencyKeys == 5)
        #expect(figures.regions[0].idempotencyBytes == 500)
        let json = figures.json()
        #expect(json.contains(#""idempotency_keys":5,"idempotency_bytes":500"#))
        #expect(json.contains(#""dead_letters":0,"idempotency_keys":3,"idempotency_bytes":300"#))
    }
}
