import BusDomain
import BusService
import Testing

@testable import BusGateway

@Suite("Spawn decoding")
struct SpawnDecodingTests {
    private func decode(_ json: String) -> Result<SpawnEvent, APIError> {
        SpawnEvent.decode(body: Array(json.utf8))
    }

    @Test("a valid spawn decodes; coords render compactly")
    func valid() throws {
        let event = try decode(
            #"{"biome_id": 53, "type": "chest", "coords": [1.5, 2.0, 3.25], "chest_id": "c-9", "x": 1}"#
        ).get()
        #expect(event.biome == BiomeID(53))
        #expect(event.type == "chest")
        #expect(event.coordinates == [1.5, 2, 3.25])
        #expect(event.chestID == "c-9")
        #expect(event.coordinatesText == "[1.5,2,3.25]")
    }

    @Test("chest_id is optional; null counts as absent")
    func optionalChestID() throws {
        #expect(try decode(#"{"biome_id": 1, "type": "t", "coords": [0, 0]}"#).get().chestID == nil)
        #expect(try decode(#"{"biome_id": 1, "type": "t", "coords": [0, 0], "chest_id": null}"#).get().chestID == nil)
    }

    @Test(
        "each bad field gives 400 naming it",
        arguments: [
            (#"{"biome_id": "53", "type": "t", "coords": [0, 0]}"#, "biome_id"),
            (#"{"biome_id": 53.5, "type": "t", "coords": [0, 0]}"#, "biome_id"),
            (#"{"biome_id": -1, "type": "t", "coords": [0, 0]}"#, "biome_id"),
            (#"{"biome_id": 2147483648, "type": "t", "coords": [0, 0]}"#, "biome_id"),
            (#"{"biome_id": 1, "type": "T", "coords": [0, 0]}"#, "type"),
            (#"{"biome_id": 1, "type": "t", "coords": [0]}"#, "coords"),
            (#"{"biome_id": 1, "type": "t", "coords": [0, 0, 0, 0]}"#, "coords"),
            (#"{"biome_id": 1, "type": "t", "coords": [1e999, 0]}"#, "coords"),
            (#"{"biome_id": 1, "type": "t", "coords": [0, 0], "chest_id": "a b"}"#, "chest_id"),
            (#"{"type": "t", "coords": [0, 0]}"#, "biome_id"),
        ])
    func invalid(_ json: String, _ field: String) {
        guard case .failure(let error) = decode(json) else {
            Issue.record("accepted \(json)")
            return
        }
        #expect(error.status == 400)
        #expect(error.message.contains(field))
    }
}
