import BusDomain
import BusGateway
import BusTesting
import Foundation
import Testing

/// `POST /v1/spawn/batch`, through the real gateway and Redis.
@Suite("Gateway: batch spawns", .serialized)
struct GatewayBatchTests {
    private static func event(_ biome: Int, chestID: String? = nil, key: String? = nil, coords: String = "[1, 2]")
        -> String
    {
        var text = #"{"biome_id": \#(biome), "type": "chest", "coords": \#(coords)"#
        if let chestID { text += #", "chest_id": "\#(chestID)""# }
        if let key { text += #", "idempotency_key": "\#(key)""# }
        return text + "}"
    }

    private static func batch(_ port: Int, _ events: [String], contentType: String = "application/json") throws
        -> PlainHTTPResponse
    {
        try batch(port, body: #"{"events": ["# + events.joined(separator: ",") + "]}", contentType: contentType)
    }

    private static func batch(_ port: Int, body: String, contentType: String = "application/json") throws
        -> PlainHTTPResponse
    {
        try PlainHTTPClient.request(
            port: port, method: "POST", path: "/v1/spawn/batch", headers: ["Content-Type": contentType],
            body: Array(body.utf8))
    }

    private static func results(_ response: PlainHTTPResponse) -> [[String: Any]] {
        response.json["results"] as? [[String: Any]] ?? []
    }

    /// Region north (biomes 1, 3) and south (biome 2), each on its own Redis.
    private func twoRegions(configure: (inout GatewayService.Configuration) -> Void = { _ in }) throws -> (
        north: RedisServerProcess, south: RedisServerProcess, harness: GatewayHarness
    ) {
        let north = try RedisServerProcess.temporary()
        let south = try RedisServerProcess.temporary()
        let harness = try GatewayHarness(
            regions: [
                GatewayHarness.region("north", redis: north, biomes: [1, 3]),
                GatewayHarness.region("south", redis: south, biomes: [2]),
            ], configure: configure)
        return (north, south, harness)
    }

    @Test("one result per event in request order; bad events fail alone; counts add up")
    func perEventResults() throws {
        let (north, south, harness) = try twoRegions()
        let response = try Self.batch(
            harness.port,
            [
                Self.event(1, chestID: "a"), #"{"biome_id": 1, "type": "Bad!", "coords": [1, 2]}"#, "42",
                Self.event(2, chestID: "b"), Self.event(99), Self.event(3),
            ])
        #expect(response.status == 200)
        #expect(response.json["accepted"] as? Int == 3)
        #expect(response.json["rejected"] as? Int == 3)
        let results = Self.results(response)
        #expect(results.map { $0["status"] as? Int } == [202, 400, 400, 202, 404, 202])
        #expect(results[0]["chest_id"] as? String == "a")
        #expect(results[0]["stream"] as? String == "EVSTREAM:1")
        #expect(results[0]["biome_id"] as? Int == 1)
        #expect(results[3]["stream"] as? String == "EVSTREAM:2")
        #expect((results[5]["chest_id"] as? String)?.isEmpty == false, "a generated chest id")
        #expect((results[1]["error"] as? [String: Any])?["code"] as? String == "invalid_field")
        #expect((results[4]["error"] as? [String: Any])?["code"] as? String == "unknown_biome")
        let id = try #require(results[0]["id"] as? String)
        #expect(try north.entries("EVSTREAM:1").map(\.id) == [id])
        #expect(try north.streamLength("EVSTREAM:3") == 1)
        #expect(try south.entries("EVSTREAM:2").map { $0.fields["chest_id"] } == ["b"])
    }

    @Test("a bad envelope is one 400 and writes nothing; a non-JSON body is 415")
    func badEnvelopes() throws {
        let (north, _, harness) = try twoRegions()
        let one = Self.event(1)
        for body in [
            "[" + one + "]", #"{"spawns": [\#(one)]}"#, #"{"events": \#(one)}"#, #"{"events": []}"#,
            #"{"events": ["# + Array(repeating: one, count: 1001).joined(separator: ",") + "]}",
            #"{"events": [\#(one)"#,
        ] {
            let response = try Self.batch(harness.port, body: body)
            #expect(response.status == 400, "\(body.prefix(30))")
            #expect(["malformed_json", "missing_field", "invalid_field"].contains(response.errorCode ?? ""))
        }
        #expect(try Self.batch(harness.port, [one], contentType: "text/plain").status == 415)
        #expect(try north.cli("EXISTS", "EVSTREAM:1") == "0")
    }

    @Test("up to 1 MiB for the batch path; the single spawn keeps its 16 KiB")
    func bodyLimits() throws {
        let (north, _, harness) = try twoRegions()
        let padding = String(repeating: "p", count: 900)
        let padded = #"{"biome_id": 1, "type": "chest", "coords": [1, 2], "pad": "\#(padding)"}"#
        let large = try Self.batch(harness.port, Array(repeating: padded, count: 1000))
        #expect(large.status == 200, "about 940 KB")
        #expect(large.json["accepted"] as? Int == 1000)
        #expect(try north.streamLength("EVSTREAM:1") == 1000)

        let tooLarge = try Self.batch(harness.port, Array(repeating: padded, count: 1120))
        #expect(tooLarge.status == 413)
        #expect(tooLarge.errorCode == "payload_too_large")
        #expect(tooLarge.errorMessage?.contains("1048576") == true)
        let single =
            #"{"biome_id": 1, "type": "chest", "coords": [1, 2], "pad": "\#(String(repeating: "p", count: 17000))"}"#
        #expect(try PlainHTTPClient.spawn(port: harness.port, single).status == 413)
        #expect(try north.streamLength("EVSTREAM:1") == 1000)
    }

    @Test("one biome's entries keep the batch's order, keyed and plain events interleaved, across regions")
    func order() throws {
        let (north, south, harness) = try twoRegions()
        var events: [String] = []
        for index in 0..<600 {
            let biome = [1, 2, 3][index % 3]
            events.append(Self.event(biome, chestID: "c-\(index)", key: index % 4 == 0 ? "k-\(index)" : nil))
        }
        let response = try Self.batch(harness.port, events)
        #expect(response.json["accepted"] as? Int == 600)
        func expected(_ biome: Int) -> [String?] {
            (0..<600).filter { [1, 2, 3][$0 % 3] == biome }.map { "c-\($0)" }
        }
        #expect(try north.entries("EVSTREAM:1").map { $0.fields["chest_id"] } == expected(1))
        #expect(try south.entries("EVSTREAM:2").map { $0.fields["chest_id"] } == expected(2))
        #expect(try north.entries("EVSTREAM:3").map { $0.fields["chest_id"] } == expected(3))
        let ids = Self.results(response).compactMap { $0["id"] as? String }
        #expect(ids.count == 600)
    }

    @Test("per-event idempotency keys: replayed within and across batches and single spawns, reused is 422")
    func keyedEvents() throws {
        let (north, _, harness) = try twoRegions()
        let first = try Self.batch(
            harness.port,
            [
                Self.event(1, key: "k-1"), Self.event(1, key: "k-1"), Self.event(1, key: "k-1", coords: "[5, 6]"),
                Self.event(1, key: ""),
            ])
        let results = Self.results(first)
        #expect(results.map { $0["status"] as? Int } == [202, 202, 422, 400])
        #expect(results[0]["replayed"] == nil)
        #expect(results[1]["replayed"] as? Bool == true)
        #expect(results[1]["id"] as? String == results[0]["id"] as? String)
        #expect(results[1]["chest_id"] as? String == results[0]["chest_id"] as? String)
        #expect((results[2]["error"] as? [String: Any])?["code"] as? String == "idempotency_key_reused")

        // The header of a single spawn and an event's member are one key space.
        let single = try PlainHTTPClient.request(
            port: harness.port, method: "POST", path: "/v1/spawn",
            headers: ["Content-Type": "application/json", "Idempotency-Key": "k-1"],
            body: Array(Self.event(1).utf8))
        #expect(single.status == 202 && single.headers["idempotent-replayed"] == "true")
        #expect(single.json["id"] as? String == results[0]["id"] as? String)
        #expect(try north.streamLength("EVSTREAM:1") == 1)
    }

    @Test("concurrent batches with the same keys: each key appends exactly once")
    func concurrentKeys() async throws {
        let (north, _, harness) = try twoRegions()
        let port = harness.port
        let events = (0..<20).map { Self.event(1, key: "k-\($0)") }
        let responses = try await Concurrently.results(10, width: 10) { _ in try Self.batch(port, events) }.map {
            try $0.get()
        }
        #expect(responses.allSatisfy { $0.json["accepted"] as? Int == 20 })
        #expect(try north.streamLength("EVSTREAM:1") == 20)
        let firstAnswers = responses.map { Self.results($0).map { $0["id"] as? String } }
        #expect(Set(firstAnswers.map { $0.compactMap { $0 }.joined(separator: ",") }).count == 1)
    }

    @Test("a region that is down fails only its own events, 503 each; the rest are appended")
    func regionDown() async throws {
        let (north, south, harness) = try twoRegions()
        #expect(try Self.batch(harness.port, [Self.event(1), Self.event(2)]).json["accepted"] as? Int == 2)
        await north.kill()
        var response = try Self.batch(harness.port, [Self.event(1), Self.event(2), Self.event(3), Self.event(2)])
        // The first batch after the kill may still find the old connection up.
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(3)) {
                response =
                    (try? Self.batch(harness.port, [Self.event(1), Self.event(2), Self.event(3), Self.event(2)]))
                    ?? response
                return Self.results(response).first?["status"] as? Int == 503
            })
        let results = Self.results(response)
        #expect(results.map { $0["status"] as? Int } == [503, 202, 503, 202])
        #expect((results[0]["error"] as? [String: Any])?["code"] as? String == "region_unavailable")
        #expect(response.json["accepted"] as? Int == 2)
        #expect(try south.streamLength("EVSTREAM:2") >= 3)
    }

    @Test("a region that hangs mid-batch: its events 503 after the Redis timeout, the others 202")
    func regionHangsMidBatch() throws {
        let (north, south, harness) = try twoRegions()
        defer { north.resume() }
        #expect(try Self.batch(harness.port, [Self.event(1)]).json["accepted"] as? Int == 1)
        north.pause()
        let events = (0..<50).map { Self.event($0 % 2 == 0 ? 1 : 2, chestID: "c-\($0)") }
        let clock = ContinuousClock()
        let started = clock.now
        let response = try Self.batch(harness.port, events)
        let elapsed = clock.now - started
        let statuses = Self.results(response).map { $0["status"] as? Int }
        #expect(statuses == (0..<50).map { $0 % 2 == 0 ? 503 : 202 })
        #expect(elapsed < .seconds(3), "answered after \(elapsed)")
        #expect(try south.streamLength("EVSTREAM:2") == 25)
    }

    @Test("a share that would pass the connection's outstanding cap is refused whole, never cut")
    func overloadedShare() throws {
        let (north, south, harness) = try twoRegions { $0.maxOutstandingPerConnection = 100 }
        let events = (0..<150).map { Self.event(1, chestID: "c-\($0)") } + [Self.event(2)]
        let response = try Self.batch(harness.port, events)
        let results = Self.results(response)
        #expect(results.prefix(150).allSatisfy { $0["status"] as? Int == 503 })
        #expect((results[0]["error"] as? [String: Any])?["code"] as? String == "region_overloaded")
        #expect(results[150]["status"] as? Int == 202)
        #expect(try north.cli("EXISTS", "EVSTREAM:1") == "0")
        #expect(try south.streamLength("EVSTREAM:2") == 1)
        #expect(try Self.batch(harness.port, Array(events.prefix(100))).json["accepted"] as? Int == 100)
    }
}
