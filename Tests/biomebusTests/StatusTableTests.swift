import BusDomain
import BusOps
import Testing

@testable import biomebus

@Suite("biomebus status table")
struct StatusTableTests {
    /// Region `north` (shedding, one biome at 70 % of maxlen, one group) and region `south` (down).
    private let snapshot = RegionsSnapshot(
        takenAtMs: 0,
        regions: [
            RegionStatus(
                name: "north", redis: "redis://h:1/0", up: true, usedMemory: 92, maxMemory: 100, memoryHighWater: 0.9,
                claimIdleMs: 30000, shedding: true,
                biomes: [
                    BiomeStatus(
                        biome: BiomeID(53)!, length: 70, maxlen: 100, deadLetters: 2,
                        groups: [
                            GroupStatus(name: "treasure", pending: 4, lag: 7, consumers: 1, oldestPendingAgeMs: 12_345)
                        ], idempotencyKeys: 12, idempotencyBytes: 1536)
                ], master: "10.0.0.1:6379", role: "master", replicas: ["10.0.0.2:6379", "10.0.0.3:6379"]),
            RegionStatus(
                name: "south", redis: "redis://h:2/0", up: false, error: "refused", memoryHighWater: 0.9,
                claimIdleMs: 30000),
        ])

    @Test("one row per group with every column, the shedding suffix and the memory ratio")
    func rows() {
        let lines = snapshot.table().split(separator: "\n").map(String.init)
        #expect(
            lines[0].split(separator: " ") == [
                "REGION", "BIOME", "LENGTH", "FILL", "GROUP", "PENDING", "LAG", "CONSUMERS", "OLDEST", "DLQ",
                "IDEMPOTENCY",
                "MEMORY", "ROLE", "MASTER", "REPLICAS",
            ])
        #expect(
            lines[1].split(separator: " ") == [
                "north", "(shedding)", "53", "70", "70%", "treasure", "4", "7", "1", "12s", "2", "12/1.5KiB", "92%",
                "master",
                "10.0.0.1:6379", "2",
            ])
        #expect(
            lines[2].split(separator: " ") == [
                "!", "south", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "down", "-", "-", "-",
            ])
        #expect(lines.count == 3)
    }

    @Test("breached rows start with ! and the reasons follow the table")
    func breaches() {
        let breaches = SnapshotHealth.breaches(snapshot)
        let text = snapshot.table(breaches: breaches)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[1].hasPrefix("!") && lines[2].hasPrefix("!"))
        #expect(lines[3] == "")
        #expect(Array(lines[4...]) == breaches.map { "! \($0)" } + [""])
        #expect(text.contains("! biome 53 stream at 70 % of maxlen"))
        #expect(text.contains("! region south is down"))
    }

    @Test("idempotency bytes read at a glance")
    func bytesText() {
        #expect(RegionsSnapshot.bytesText(0) == "0B")
        #expect(RegionsSnapshot.bytesText(1023) == "1023B")
        #expect(RegionsSnapshot.bytesText(1536) == "1.5KiB")
        #expect(RegionsSnapshot.bytesText(3 * 1024 * 1024) == "3.0MiB")
        #expect(RegionsSnapshot.bytesText(5 * 1024 * 1024 * 1024 * 1024) == "5120.0GiB")
    }
}
