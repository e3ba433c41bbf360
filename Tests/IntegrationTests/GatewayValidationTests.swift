import BusTesting
import Foundation
import Testing

@Suite("Gateway: bad requests get the contract's status and write nothing")
struct GatewayValidationTests {
    struct BadBody: CustomTestStringConvertible, Sendable {
        let body: [UInt8]
        let code: String
        /// The field the message must name (nil for whole-body errors).
        let field: String?
        let testDescription: String

        init(_ json: String, _ code: String, field: String?) {
            self.body = Array(json.utf8)
            self.code = code
            self.field = field
            self.testDescription = json
        }

        init(bytes: [UInt8], _ code: String, field: String?, name: String) {
            self.body = bytes
            self.code = code
            self.field = field
            self.testDescription = name
        }
    }

    static let badBodies: [BadBody] = [
        BadBody("not json", "malformed_json", field: nil),
        BadBody(#"{"biome_id": 53, "type": "chest""#, "malformed_json", field: nil),
        BadBody("", "malformed_json", field: nil),
        BadBody("[53]", "malformed_json", field: nil),
        BadBody(#"{"biome_id": 53, "biome_id": 54, "type": "chest", "coords": [1, 2]}"#, "malformed_json", field: nil),
        BadBody(#"{"type": "chest", "coords": [1, 2]}"#, "missing_field", field: "biome_id"),
        BadBody(#"{"biome_id": "53", "type": "chest", "coords": [1, 2]}"#, "invalid_field", field: "biome_id"),
        BadBody(#"{"biome_id": 53.5, "type": "chest", "coords": [1, 2]}"#, "invalid_field", field: "biome_id"),
        BadBody(#"{"biome_id": 53.0, "type": "chest", "coords": [1, 2]}"#, "invalid_field", field: "biome_id"),
        BadBody(#"{"biome_id": 5e1, "type": "chest", "coords": [1, 2]}"#, "invalid_field", field: "biome_id"),
        BadBody(#"{"biome_id": -1, "type": "chest", "coords": [1, 2]}"#, "invalid_field", field: "biome_id"),
        BadBody(#"{"biome_id": 2147483648, "type": "chest", "coords": [1, 2]}"#, "invalid_field", field: "biome_id"),
        BadBody(
            #"{"biome_id": 99999999999999999999, "type": "chest", "coords": [1, 2]}"#, "invalid_field",
            field: "biome_id"),
        BadBody(#"{"biome_id": null, "type": "chest", "coords": [1, 2]}"#, "invalid_field", field: "biome_id"),
        BadBody(#"{"biome_id": 53, "coords": [1, 2]}"#, "missing_field", field: "type"),
        BadBody(#"{"biome_id": 53, "type": "Chest", "coords": [1, 2]}"#, "invalid_field", field: "type"),
        BadBody(#"{"biome_id": 53, "type": "", "coords": [1, 2]}"#, "invalid_field", field: "type"),
        BadBody(#"{"biome_id": 53, "type": "a b", "coords": [1, 2]}"#, "invalid_field", field: "type"),
        BadBody(
            #"{"biome_id": 53, "type": "\#(String(repeating: "a", count: 33))", "coords": [1, 2]}"#, "invalid_field",
            field: "type"),
        BadBody(#"{"biome_id": 53, "type": 7, "coords": [1, 2]}"#, "invalid_field", field: "type"),
        BadBody(#"{"biome_id": 53, "type": "chest"}"#, "missing_field", field: "coords"),
        BadBody(#"{"biome_id": 53, "type": "chest", "coords": [1]}"#, "invalid_field", field: "coords"),
        BadBody(#"{"biome_id": 53, "type": "chest", "coords": [1, 2, 3, 4]}"#, "invalid_field", field: "coords"),
        BadBody(#"{"biome_id": 53, "type": "chest", "coords": "1,2"}"#, "invalid_field", field: "coords"),
        BadBody(#"{"biome_id": 53, "type": "chest", "coords": [1, "2"]}"#, "invalid_field", field: "coords"),
        BadBody(#"{"biome_id": 53, "type": "chest", "coords": [1e400, 2]}"#, "invalid_field", field: "coords"),
        BadBody(#"{"biome_id": 53, "type": "chest", "coords": [1, -1e309]}"#, "invalid_field", field: "coords"),
        BadBody(#"{"biome_id": 53, "type": "chest", "coords": [NaN, 2]}"#, "malformed_json", field: nil),
        BadBody(
            #"{"biome_id": 53, "type": "chest", "coords": [1, 2], "chest_id": "bad id"}"#, "invalid_field",
            field: "chest_id"),
        BadBody(
            #"{"biome_id": 53, "type": "chest", "coords": [1, 2], "chest_id": ""}"#, "invalid_field", field: "chest_id"),
        BadBody(
            #"{"biome_id": 53, "type": "chest", "coords": [1, 2], "chest_id": "c/9"}"#, "invalid_field",
            field: "chest_id"),
        BadBody(
            #"{"biome_id": 53, "type": "chest", "coords": [1, 2], "chest_id": 9}"#, "invalid_field", field: "chest_id"),
        BadBody(
            #"{"biome_id": 53, "type": "chest", "coords": [1, 2], "chest_id": "\#(String(repeating: "c", count: 65))"}"#,
            "invalid_field", field: "chest_id"),
        BadBody(
            bytes: Array(#"{"biome_id": 53, "type": "chest", "coords": [1, 2], "chest_id": ""#.utf8) + [0xC3, 0x28]
                + Array(#""}"#.utf8),
            "malformed_json", field: nil, name: "invalid UTF-8 in chest_id"),
        BadBody(
            bytes: Array(#"{"biome_id": 53, "type": "chest", "coords": [1, 2], "note": ""#.utf8) + [0xFF, 0xFE]
                + Array(#""}"#.utf8),
            "malformed_json", field: nil, name: "invalid UTF-8 in an unknown field"),
    ]

    @Test("every malformed body gets 400 with a code and a message naming the field", arguments: badBodies)
    func malformedBodies(_ bad: BadBody) throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try GatewayHarness(regions: [GatewayHarness.region("emerald", redis: redis, biomes: [53])])
        let response = try PlainHTTPClient.request(
            port: harness.port, method: "POST", path: "/v1/spawn", headers: ["Content-Type": "application/json"],
            body: bad.body)
        #expect(response.status == 400)
        #expect(response.errorCode == bad.code)
        let message = try #require(response.errorMessage)
        if let field = bad.field { #expect(message.contains(field), "message: \(message)") }
        #expect(try redis.cli("KEYS", "*").isEmpty, "nothing may be written")
    }

    @Test("unknown fields are ignored")
    func unknownFieldsIgnored() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try GatewayHarness(regions: [GatewayHarness.region("emerald", redis: redis, biomes: [53])])
        let response = try PlainHTTPClient.spawn(
            port: harness.port, #"{"biome_id": 53, "type": "chest", "coords": [1, 2], "rarity": {"tier": [1]}}"#)
        #expect(response.status == 202)
    }

    @Test("unknown biome 404, wrong method 405 with Allow, big body 413, not JSON 415, unknown path 404")
    func otherClientErrors() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try GatewayHarness(regions: [GatewayHarness.region("emerald", redis: redis, biomes: [53])])
        let port = harness.port

        let unknown = try PlainHTTPClient.spawn(port: port, #"{"biome_id": 54, "type": "chest", "coords": [1, 2]}"#)
        #expect(unknown.status == 404)
        #expect(unknown.errorCode == "unknown_biome")

        for method in ["GET", "PUT", "DELETE", "PATCH"] {
            let wrong = try PlainHTTPClient.request(port: port, method: method, path: "/v1/spawn")
            #expect(wrong.status == 405, "\(method)")
            #expect(wrong.headers["allow"] == "POST")
            #expect(wrong.errorCode == "method_not_allowed")
        }

        let padding = String(repeating: "x", count: 17 * 1024)
        let large = try PlainHTTPClient.spawn(
            port: port, #"{"biome_id": 53, "type": "chest", "coords": [1, 2], "pad": "\#(padding)"}"#)
        #expect(large.status == 413)
        #expect(large.errorCode == "payload_too_large")

        let huge = try PlainHTTPClient.spawn(port: port, String(repeating: " ", count: 2 * 1024 * 1024))
        #expect(huge.status == 413)

        let text = try PlainHTTPClient.spawn(
            port: port, #"{"biome_id": 53, "type": "chest", "coords": [1, 2]}"#, contentType: "text/plain")
        #expect(text.status == 415)
        #expect(text.errorCode == "unsupported_media_type")

        let noType = try PlainHTTPClient.request(
            port: port, method: "POST", path: "/v1/spawn", body: Array(#"{"biome_id": 53}"#.utf8))
        #expect(noType.status == 415)

        let charset = try PlainHTTPClient.spawn(
            port: port, #"{"biome_id": 53, "type": "chest", "coords": [1, 2]}"#,
            contentType: "application/json; charset=utf-8")
        #expect(charset.status == 202)

        let missing = try PlainHTTPClient.request(port: port, method: "GET", path: "/v1/nothing")
        #expect(missing.status == 404)
        #expect(missing.errorCode == "not_found")

        #expect(try redis.streamLength("EVSTREAM:53") == 1, "only the valid charset spawn was written")
    }
}
