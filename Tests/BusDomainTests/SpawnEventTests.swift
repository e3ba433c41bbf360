import BusJSON
import Testing

@testable import BusDomain

@Suite("SpawnEvent, stream keys and identifiers")
struct SpawnEventTests {
    @Test("coords render as compact JSON")
    func coordinatesText() throws {
        let event = SpawnEvent(biome: BiomeID(1)!, type: "t", coordinates: [1.5, 2, 3.25], chestID: nil)
        #expect(event.coordinatesText == "[1.5,2,3.25]")
        #expect(try JSONParser.parse(Array(event.coordinatesText.utf8)) != .null)
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
        // As Int64(String) reads them: an optional minus, then ASCII digits.
        #expect(BiomeID("-0") == BiomeID(0))
        #expect(BiomeID("007") == BiomeID(7))
        #expect(BiomeID("2147483647") == BiomeID(2_147_483_647))
        for text in ["", "-", "-5", "2147483648", "9223372036854775808", "-9223372036854775808", " 1", "1 ", "٣"] {
            #expect(BiomeID(text) == nil, "\(text)")
        }
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
}
