import BusChests
import BusDomain
import BusJSON
import BusService
import Testing

@testable import BusActivation

@Suite("Entity tags, If-Match and activation decisions")
struct ActivationTests {
    private func chest(_ state: Chest.State, version: Int64) -> Chest {
        Chest(
            biome: BiomeID(53)!, chestID: "c-9", type: "chest", coordinatesJSON: "[1.5,2,3.25]", state: state,
            version: version, activatedBy: state == .activated ? "p-1" : nil)
    }

    @Test("If-Match parses *, lists, weak tags and whitespace (RFC 9110)")
    func parsing() {
        #expect(IfMatch(headerValues: ["*"]) == .any)
        #expect(IfMatch(headerValues: [#""1""#]) == .tags([EntityTag("1")]))
        #expect(
            IfMatch(headerValues: [#" "1" , W/"2",,"x""#])
                == .tags([EntityTag("1"), EntityTag("2", weak: true), EntityTag("x")]))
        #expect(IfMatch(headerValues: [#""1""#, #""2""#]) == .tags([EntityTag("1"), EntityTag("2")]))
        for bad in ["1", #""1"#, #"W/1"#, #""a b""#, #""1" "2""#, "", " ", "*, \"1\""] {
            #expect(IfMatch(headerValues: [bad]) == nil, "\(bad)")
        }
    }

    @Test("If-Match: the ASCII byte parser and the Character parser agree on the edges")
    func parsingEdges() {
        #expect(IfMatch(headerValues: [" \t* "]) == .any)
        #expect(IfMatch(headerValues: [" ", "*"]) == nil, "joined: \" ,*\"")
        for bad in ["*,*", "**", "W/", "W/\"", "\"1\"x", "\"\u{7F}\"", "\"\t\"", "\"1\",\"2"] {
            #expect(IfMatch(headerValues: [bad]) == nil, "\(bad)")
        }
        #expect(IfMatch(headerValues: ["\t\"!#~\"\t,"]) == .tags([EntityTag("!#~")]))
        #expect(IfMatch(headerValues: [#""""#]) == .tags([EntityTag("")]))
        // Not ASCII: obs-text is allowed in a tag (read by Character, as before).
        #expect(IfMatch(headerValues: [#""é", W/"1""#]) == .tags([EntityTag("é"), EntityTag("1", weak: true)]))
    }

    @Test("a tag names a version only when written as String(version) writes it")
    func tagVersions() {
        #expect(EntityTag("0").version == 0)
        #expect(EntityTag("7").version == 7)
        #expect(EntityTag("9223372036854775807").version == Int64.max)
        for text in ["", "00", "07", "+7", "-0", "-7", "7 ", "x", "9223372036854775808", "99999999999999999999"] {
            #expect(EntityTag(text).version == nil, "\(text)")
        }
        #expect(EntityTag("7", weak: true).version == nil)
    }

    @Test("strong comparison: a weak tag never matches")
    func strongComparison() {
        #expect(IfMatch(headerValues: [#""3""#])!.matches(EntityTag(version: 3)))
        #expect(!IfMatch(headerValues: [#"W/"3""#])!.matches(EntityTag(version: 3)))
        #expect(IfMatch(headerValues: [#""2", "3""#])!.matches(EntityTag(version: 3)))
        #expect(IfMatch.any.matches(EntityTag(version: 9)))
        #expect(IfMatch(headerValues: [#""03", W/"3", "x", "3""#])!.candidateVersions == [3])
        #expect(EntityTag(version: 12).description == #""12""#)
    }

    @Test("the decision after the conditional UPDATE")
    func decisions() {
        let request = ActivationRequest(
            biome: BiomeID(53)!, chestID: "c-9", condition: .tags([EntityTag("1")]), playerID: "p-1")
        let activated = chest(.activated, version: 2)
        #expect(ActivationOutcome.decide(request: request, updated: activated, current: nil) == .activated(activated))
        #expect(ActivationOutcome.decide(request: request, updated: nil, current: nil) == .notFound)
        #expect(
            ActivationOutcome.decide(request: request, updated: nil, current: activated)
                == .preconditionFailed(activated))
        let matching = ActivationRequest(
            biome: BiomeID(53)!, chestID: "c-9", condition: .tags([EntityTag("2")]), playerID: nil)
        #expect(
            ActivationOutcome.decide(request: matching, updated: nil, current: activated)
                == .alreadyActivated(activated))
        let star = ActivationRequest(biome: BiomeID(53)!, chestID: "c-9", condition: .any, playerID: nil)
        #expect(
            ActivationOutcome.decide(request: star, updated: nil, current: activated) == .alreadyActivated(activated))
        #expect(ActivationOutcome.preconditionFailed(activated).error?.status == 412)
        #expect(ActivationOutcome.preconditionFailed(activated).error?.headers.first?.value == #""2""#)
        #expect(ActivationOutcome.alreadyActivated(activated).error?.status == 409)
        #expect(ActivationOutcome.notFound.error?.code == "chest_not_found")
    }

    @Test("request validation: ids, tags and bodies")
    func validation() {
        func validate(
            biome: String = "53", chest: String? = "c-9", ifMatch: [String] = [#""1""#], body: String = "",
            alias: Bool = false
        ) -> Result<ActivationRequest, APIError> {
            ActivationRequest.validate(
                biomeID: biome, chestID: chest, ifMatch: ifMatch, body: Array(body.utf8), chestIDInBody: alias)
        }
        #expect((try? validate().get())?.playerID == nil)
        #expect((try? validate(body: #"{"player_id": "p-1"}"#).get())?.playerID == "p-1")
        #expect(
            (try? validate(chest: nil, body: #"{"chest_id": "c-9", "player_id": "p-1"}"#, alias: true).get())?.chestID
                == "c-9")
        func status(_ result: Result<ActivationRequest, APIError>) -> Int? {
            if case .failure(let error) = result { return error.status }
            return nil
        }
        #expect(status(validate(ifMatch: [])) == 428)
        #expect(status(validate(ifMatch: ["1"])) == 400)
        #expect(status(validate(biome: "x")) == 400)
        #expect(status(validate(biome: "-1")) == 400)
        #expect(status(validate(biome: "2147483648")) == 400)
        #expect(status(validate(chest: "bad id")) == 400)
        #expect(status(validate(body: "[1]")) == 400)
        #expect(status(validate(body: "{")) == 400)
        #expect(status(validate(body: #"{"player_id": 5}"#)) == 400)
        #expect(status(validate(body: #"{"player_id": "p 1"}"#)) == 400)
        #expect(status(validate(chest: nil, body: #"{"player_id": "p-1"}"#, alias: true)) == 400)
        #expect(status(validate(chest: nil, alias: true)) == 400)
    }

    @Test("chest JSON is the contract's representation")
    func chestJSON() {
        #expect(
            chest(.spawned, version: 1).json
                == #"{"biome_id":53,"chest_id":"c-9","type":"chest","coords":[1.5,2,3.25],"state":"spawned","version":1,"activated_by":null}"#
        )
        #expect(chest(.activated, version: 2).json.contains(#""activated_by":"p-1""#))
    }

    @Test("a chest's bytes are what the JSON writer writes, escapes and all")
    func chestBytesMatchWriter() {
        let chests = [
            chest(.spawned, version: 1), chest(.activated, version: 2),
            Chest(
                biome: BiomeID(2_147_483_647)!, chestID: "c\"1", type: "a\\b\n\u{1}é", coordinatesJSON: "[0,-1]",
                state: .activated, version: 9_000_000_000, activatedBy: "p\"q"),
            Chest(
                biome: BiomeID(0)!, chestID: "", type: "", coordinatesJSON: "[]", state: .spawned, version: 0,
                activatedBy: ""),
        ]
        for chest in chests {
            var writer = JSONWriter()
            chest.write(to: &writer)
            #expect(chest.jsonBytes == writer.bytes, "\(writer.text)")
        }
    }

    @Test("list body: the chests in order inside {\"chests\":[…]}")
    func listJSON() {
        #expect(String(decoding: Chest.listJSONBytes([]), as: UTF8.self) == #"{"chests":[]}"#)
        let chests = [chest(.spawned, version: 1), chest(.activated, version: 2)]
        #expect(
            String(decoding: Chest.listJSONBytes(chests), as: UTF8.self)
                == #"{"chests":["# + chests[0].json + "," + chests[1].json + "]}")
    }

    @Test("a chest's ETag is its version, strong")
    func chestEntityTag() {
        #expect(chest(.spawned, version: 7).entityTag == EntityTag("7"))
        #expect(chest(.spawned, version: 7).entityTag.description == #""7""#)
    }
}
