import Testing

@testable import BusDomain

@Suite("SpawnEvent validation and stream keys")
struct SpawnEventTests {
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

    @Test("biome ids map to decimal keys, whatever their size")
    func streamKeys() {
        #expect(StreamKey.events(BiomeID(7)!) == "EVSTREAM:7")
        #expect(StreamKey.events(BiomeID(10)!) == "EVSTREAM:10")
        #expect(StreamKey.events(BiomeID(53)!) == "EVSTREAM:53")
        #expect(StreamKey.events(BiomeID(123456)!) == "EVSTREAM:123456")
        #expect(StreamKey.events(BiomeID(0)!) == "EVSTREAM:0")
        #expect(StreamKey.events(BiomeID(2_147_483_647)!) == "EVSTREAM:2147483647")
        #expect(StreamKey.deadLetters(BiomeID(53)!) == "EVDLQ:53")
        #expect(BiomeID(-1) == nil)
        #expect(BiomeID(2_147_483_648) == nil)
        #expect(BiomeID("12") == BiomeID(12))
        #expect(BiomeID("+12") == nil)
        #expect(BiomeID("1x") == nil)
    }

    @Test("identifier patterns")
    func identifiers() {
        #expect(Identifiers.isValidType("chest_big-2"))
        #expect(!Identifiers.isValidType(String(repeating: "a", count: 33)))
        #expect(!Identifiers.isValidType("é"))
        #expect(Identifiers.isValidChestID("Az09_.:-"))
        #expect(!Identifiers.isValidChestID(String(repeating: "a", count: 65)))
        #expect(Identifiers.isValidRegionName("emerald-coast"))
        #expect(!Identifiers.isValidRegionName("Emerald"))
    }

    @Test("generated chest ids are unique and valid")
    func generatedIDs() {
        var generator = ChestIDGenerator(processTag: ChestIDGenerator.makeProcessTag(), worker: 3)
        let ids = (0..<1000).map { _ in generator.next() }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy(Identifiers.isValidChestID))
        #expect(ChestIDGenerator.makeProcessTag() != ChestIDGenerator.makeProcessTag())
    }
}
