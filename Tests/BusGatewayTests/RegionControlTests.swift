import BusDomain
import BusOps
import BusRegions
import Testing

@testable import BusGateway

@Suite("RegionControl: the memory guard per region and the lag history")
struct RegionControlTests {
    /// One sample: per region (north, south of `SpawnPipelineTests.catalog`) the used memory of
    /// 100, and biome 53's group lag.
    static func snapshot(memory: [Int64], lag: Int = 0) -> RegionsSnapshot {
        let group = GroupStatus(name: "treasure", pending: 0, lag: lag, consumers: 1, oldestPendingAgeMs: nil)
        return RegionsSnapshot(
            takenAtMs: 0,
            regions: zip(["north", "south"], memory).map { name, used in
                RegionStatus(
                    name: name, redis: "redis://h/0", up: true, usedMemory: used, maxMemory: 100,
                    memoryHighWater: 0.9, claimIdleMs: 30000,
                    biomes: name == "north"
                        ? [BiomeStatus(biome: BiomeID(53)!, length: 1, maxlen: 100, groups: [group])] : [])
            })
    }

    private let catalog = SpawnPipelineTests.catalog

    @Test("each region trips at its high-water mark and clears below it minus the hysteresis, on its own")
    func hysteresis() {
        let control = RegionControl(regions: 2)
        let (tripped, sample) = control.observe(Self.snapshot(memory: [90, 10]), catalog: catalog)
        #expect(tripped == [.init(region: 0, shedding: true, ratio: 0.9)])
        #expect(sample.regions.map(\.shedding) == [true, false])
        #expect(control.sheddingStates == [true, false])
        #expect(control.observe(Self.snapshot(memory: [86, 10]), catalog: catalog).changes.isEmpty)
        #expect(control.isShedding(0))
        let (cleared, _) = control.observe(Self.snapshot(memory: [84, 10]), catalog: catalog)
        #expect(cleared == [.init(region: 0, shedding: false, ratio: 0.84)])
        #expect(control.sheddingStates == [false, false])
    }

    @Test("lag growing is a breach only after three rising samples")
    func lagHistory() {
        let control = RegionControl(regions: 2)
        for lag in 1...3 { _ = control.observe(Self.snapshot(memory: [0, 0], lag: lag), catalog: catalog) }
        #expect(control.lagBreaches.isEmpty)
        _ = control.observe(Self.snapshot(memory: [0, 0], lag: 4), catalog: catalog)
        #expect(control.lagBreaches == [.lagGrowing(biome: BiomeID(53)!, group: "treasure")])
        _ = control.observe(Self.snapshot(memory: [0, 0], lag: 4), catalog: catalog)
        #expect(control.lagBreaches.isEmpty)
    }

    @Test("publishing gauges never changes control")
    func publishIsPassive() {
        let control = RegionControl(regions: 2)
        let metrics = GatewayMetrics(loops: 1, http: .init())
        var sample = Self.snapshot(memory: [99, 99])
        sample.regions[0].shedding = true
        metrics.publish(sample)
        #expect(control.sheddingStates == [false, false])
        #expect(control.lagBreaches.isEmpty)
    }
}
