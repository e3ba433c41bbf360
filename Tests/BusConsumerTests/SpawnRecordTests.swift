import BusDomain
import Testing

@testable import BusConsumer

@Suite("Spawn records read back from streams")
struct SpawnRecordTests {
    private let good = ["type": "chest", "coords": "[1.5,2,3.25]", "chest_id": "c-9", "ts": "1700000000000"]

    @Test("the gateway's fields parse back")
    func parses() throws {
        let record = try SpawnRecord(biome: BiomeID(53)!, streamID: "1-0", fields: good)
        #expect(record.coordinates == [1.5, 2, 3.25])
        #expect(record.newChest.coordinatesArrayLiteral == "{1.5,2,3.25}")
        #expect(record.receivedAtMs == 1_700_000_000_000)
    }

    @Test("each broken field is named", arguments: ["type", "coords", "chest_id", "ts"])
    func broken(_ field: String) {
        var fields = good
        fields[field] = "[not valid"
        #expect(throws: SpawnRecordError.self) { try SpawnRecord(biome: BiomeID(1)!, streamID: "1-0", fields: fields) }
        fields[field] = nil
        do {
            _ = try SpawnRecord(biome: BiomeID(1)!, streamID: "1-0", fields: fields)
        } catch {
            #expect(error.description.contains(field))
        }
    }
}
