import Testing

@testable import BusGateway

@Suite("MemoryGuard")
struct MemoryGuardTests {
    @Test("the memory guard trips at the high-water mark and clears below it minus the hysteresis")
    func memoryGuard() {
        #expect(!MemoryGuard.shedding(now: false, ratio: 0.89, highWater: 0.9))
        #expect(MemoryGuard.shedding(now: false, ratio: 0.9, highWater: 0.9))
        #expect(MemoryGuard.shedding(now: true, ratio: 0.86, highWater: 0.9))
        #expect(!MemoryGuard.shedding(now: true, ratio: 0.84, highWater: 0.9))
        #expect(!MemoryGuard.shedding(now: true, ratio: nil, highWater: 0.9))
    }
}
