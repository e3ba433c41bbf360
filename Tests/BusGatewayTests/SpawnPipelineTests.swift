import BusDomain
import BusHTTP
import BusRedis
import BusRegions
import Logging
import Testing

@testable import BusGateway

@Suite("SpawnPipeline: a spawn request up to its XADD and back, without I/O")
struct SpawnPipelineTests {
    static let catalog = try! RegionCatalog(regions: [
        RegionConfig(
            name: "north", redis: RedisAddress(host: "h", port: 1), biomes: [BiomeID(53)!],
            stream: StreamConfig(maxlen: 100)),
        RegionConfig(name: "south", redis: RedisAddress(host: "h", port: 2), biomes: [BiomeID(7)!]),
    ])

    private static func pipeline(control: RegionControl = RegionControl(regions: 2)) -> SpawnPipeline {
        SpawnPipeline(catalog: catalog, control: control, chestIDs: ChestIDGenerator(processTag: "tag", worker: 3))
    }

    private static func request(_ body: String, contentType: String = "application/json") -> HTTPRequest {
        HTTPRequest(method: .post, path: "/v1/spawn", headers: ["Content-Type": contentType], body: Array(body.utf8))
    }

    private static func text(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test("415 before the body is even parsed, labelled none")
    func contentType() {
        var pipeline = Self.pipeline()
        guard
            case .answer(let response, let label) = pipeline.prepare(
                Self.request("{", contentType: "text/plain"), receivedAt: 1)
        else {
            Issue.record("not answered")
            return
        }
        #expect(response.status == 415 && label == "none")
    }

    @Test("malformed or invalid bodies are 400 labelled none; a biome of no region is 404 labelled unknown")
    func refusals() {
        var pipeline = Self.pipeline()
        guard case .answer(let malformed, let malformedLabel) = pipeline.prepare(Self.request("{"), receivedAt: 1),
            case .answer(let unknown, let unknownLabel) = pipeline.prepare(
                Self.request(#"{"biome_id": 9, "type": "t", "coords": [0, 0]}"#), receivedAt: 1)
        else {
            Issue.record("not answered")
            return
        }
        #expect(malformed.status == 400 && malformedLabel == "none")
        #expect(Self.text(malformed).contains("malformed_json"))
        #expect(unknown.status == 404 && unknownLabel == "unknown")
        #expect(Self.text(unknown).contains("unknown_biome"))
    }

    @Test("a shedding region answers 503 region_overloaded with Retry-After and builds no command")
    func shedding() {
        let control = RegionControl(regions: 2)
        let sample = RegionControlTests.snapshot(memory: [95, 10])
        _ = control.observe(sample, catalog: Self.catalog)
        var pipeline = Self.pipeline(control: control)
        guard
            case .answer(let response, let label) = pipeline.prepare(
                Self.request(#"{"biome_id": 53, "type": "t", "coords": [0, 0]}"#), receivedAt: 1)
        else {
            Issue.record("a command was built for a shedding region")
            return
        }
        #expect(response.status == 503 && label == "53")
        #expect(response.headers["Retry-After"] == "1")
        #expect(Self.text(response).contains("region_overloaded"))
        guard
            case .append = pipeline.prepare(
                Self.request(#"{"biome_id": 7, "type": "t", "coords": [0, 0]}"#), receivedAt: 1)
        else {
            Issue.record("the other region shed too")
            return
        }
    }

    @Test("XADD stream MAXLEN ~ n * type coords chest_id ts, in that order; a generated id when none was given")
    func command() {
        var pipeline = Self.pipeline()
        guard
            case .append(let append, let label) = pipeline.prepare(
                Self.request(#"{"biome_id": 53, "type": "gold", "coords": [1.5, 2]}"#), receivedAt: 1_700_000_000_123)
        else {
            Issue.record("not appended")
            return
        }
        #expect(label == "53")
        #expect(append.region == 0)
        #expect(append.chestID == "g-tag-3-1")
        let expected = RedisCommand(
            "XADD", "EVSTREAM:53", "MAXLEN", "~", "100", "*", "type", "gold", "coords", "[1.5,2]", "chest_id",
            "g-tag-3-1",
            "ts", "1700000000123")
        guard case .plain(let xadd) = append.work else {
            Issue.record("a spawn without a key was keyed")
            return
        }
        #expect(xadd.command.encoded == expected.encoded)
        guard
            case .append(let second, _) = pipeline.prepare(
                Self.request(#"{"biome_id": 53, "type": "gold", "coords": [1, 2], "chest_id": "c-9"}"#), receivedAt: 1),
            case .append(let third, _) = pipeline.prepare(
                Self.request(#"{"biome_id": 53, "type": "gold", "coords": [1, 2]}"#), receivedAt: 1)
        else {
            Issue.record("not appended")
            return
        }
        #expect(second.chestID == "c-9")
        #expect(third.chestID == "g-tag-3-2")
    }

    @Test("Redis's entry id becomes the 202 body; a failure becomes its API error")
    func answers() {
        var pipeline = Self.pipeline()
        guard
            case .append(let append, _) = pipeline.prepare(
                Self.request(#"{"biome_id": 53, "type": "gold", "coords": [1, 2], "chest_id": "c-9"}"#), receivedAt: 1)
        else {
            Issue.record("not appended")
            return
        }
        let logger = Logger(label: "test")
        let accepted = pipeline.answer(append, reply: .success(.bulk(Array("1-0".utf8))), logger: logger)
        #expect(accepted.status == 202)
        #expect(Self.text(accepted) == #"{"biome_id":53,"stream":"EVSTREAM:53","id":"1-0","chest_id":"c-9"}"#)
        let failed = pipeline.answer(append, reply: .failure(.timedOut), logger: logger)
        #expect(failed.status == 503 && Self.text(failed).contains("region_unavailable"))
        #expect(pipeline.answer(append, reply: .success(.integer(1)), logger: logger).status == 500)
    }
}

@Suite("Redis failures to spawn answers")
struct RedisErrorMappingTests {
    private let region = SpawnPipelineTests.catalog.regions[0]
    private let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test(
        "not connected, timed out, dropped: 503 region_unavailable; outstanding cap or OOM: 503 region_overloaded",
        arguments: [
            (RedisError.unavailable, "region_unavailable"), (.timedOut, "region_unavailable"),
            (.disconnected, "region_unavailable"), (.overloaded, "region_overloaded"),
            (RedisError(errorReply: "OOM command not allowed"), "region_overloaded"),
        ])
    func unavailable(_ error: RedisError, _ code: String) {
        let answer = SpawnPipeline.apiError(for: error, region: region, logger: logger)
        #expect(answer.status == 503 && answer.code == code && answer.retryAfter == 1)
        #expect(answer.message.contains("north"))
    }

    @Test("any other server error or an unexpected reply is 500")
    func unexpected() {
        let server = SpawnPipeline.apiError(for: RedisError(errorReply: "WRONGTYPE no"), region: region, logger: logger)
        #expect(server.status == 500 && server.message == "Redis refused the write")
        let reply = SpawnPipeline.apiError(for: .unexpectedReply("x"), region: region, logger: logger)
        #expect(reply.status == 500 && reply.message == "unexpected XADD reply")
    }
}
