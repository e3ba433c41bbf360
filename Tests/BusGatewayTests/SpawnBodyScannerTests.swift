import BusDomain
import Testing

@testable import BusGateway

/// The plain-form scanner must read the bodies game servers send, and answer exactly as the full
/// parser does whenever it answers at all (the spawn fuzz target checks the same on random input).
@Suite("Spawn body scanner")
struct SpawnBodyScannerTests {
    private func scanned(_ json: String) -> SpawnEvent? {
        SpawnBodyScanner.event(in: Array(json.utf8))
    }

    private func parsed(_ json: String) -> SpawnEvent? {
        try? SpawnEvent.decodeParsing(body: Array(json.utf8)).get()
    }

    @Test(
        "plain bodies are read, equal to the parser's event",
        arguments: [
            #"{"biome_id":53,"type":"chest","coords":[1.5,2.0,3.25]}"#,
            #"{"biome_id": 53, "type": "chest", "coords": [1.5, 2.0, 3.25], "chest_id": "c-9"}"#,
            #" { "coords" : [ -0.0 , 7 ] ,"chest_id":null, "type":"gold_1-x","biome_id":0 } "#,
            "{\"biome_id\":2147483647,\n\t\"type\":\"t\",\r\n\"coords\":[0.0001,-12.50,123456789012345]}",
            #"{"biome_id":1,"type":"abcdefghijklmnopqrstuvwxyz012345","coords":[0,0],"chest_id":"A.b:c-d_9"}"#,
        ])
    func readsPlainBodies(_ json: String) throws {
        let event = try #require(scanned(json))
        #expect(parsed(json) == event)
    }

    @Test("coordinates are written as the parser writes them")
    func coordinatesText() throws {
        let event = try #require(scanned(#"{"biome_id":1,"type":"t","coords":[1.50, -0.0, 2.0]}"#))
        #expect(event.coordinatesText == "[1.5,0,2]")
        #expect(try #require(scanned(#"{"biome_id":1,"type":"t","coords":[3,4],"chest_id":null}"#)).chestID == nil)
    }

    @Test(
        "anything else is left to the parser",
        arguments: [
            // Valid, but not the plain form: the parser accepts these.
            #"{"biome_id":1,"type":"t","coords":[0,0],"x":1}"#,  // an unknown member
            #"{"biome_id":1,"type":"t","coords":[1e2,0]}"#,  // an exponent
            #"{"biome_id":1,"type":"t","coords":[0.00001,0]}"#,  // printed with an exponent
            #"{"biome_id":1,"type":"t","coords":[1234567890123456,0]}"#,  // 16 digits
            #"{"biome_id":-0,"type":"t","coords":[0,0]}"#,  // a sign
            #"{"biome_id":1,"type":"\u0074","coords":[0,0]}"#,  // an escape
            #"{"biome_\u0069d":1,"type":"t","coords":[0,0]}"#,  // an escaped name
            // Invalid: the parser's errors answer these.
            #"{"biome_id":1,"type":"t","coords":[0,0],"type":"u"}"#,  // a duplicate key
            #"{"biome_id":1,"type":"","coords":[0,0]}"#,
            #"{"biome_id":1,"type":"T","coords":[0,0]}"#,
            #"{"biome_id":1,"type":"t","coords":[0,0],"chest_id":""}"#,
            #"{"biome_id":1,"type":"t","coords":[0,0],"chest_id":"a b"}"#,
            #"{"biome_id":2147483648,"type":"t","coords":[0,0]}"#,
            #"{"biome_id":01,"type":"t","coords":[0,0]}"#,
            #"{"biome_id":1.0,"type":"t","coords":[0,0]}"#,
            #"{"biome_id":1,"type":"t","coords":[0]}"#,
            #"{"biome_id":1,"type":"t","coords":[0,0,0,0]}"#,
            #"{"biome_id":1,"type":"t","coords":[0,0,]}"#,
            #"{"biome_id":1,"type":"t","coords":[1.,0]}"#,
            #"{"biome_id":1,"type":"t","coords":[00,0]}"#,
            #"{"biome_id":1,"type":"t"}"#,
            #"{"biome_id":1,"type":"t","coords":[0,0]} x"#,
            #"{"biome_id":1,"type":"t","coords":[0,0],}"#,
            #"{"biome_id":1 "type":"t","coords":[0,0]}"#,
            #"{}"#,
            "",
        ])
    func leavesTheRest(_ json: String) {
        #expect(scanned(json) == nil)
    }
}
