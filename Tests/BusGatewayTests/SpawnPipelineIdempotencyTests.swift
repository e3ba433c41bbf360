import BusDomain
import BusHTTP
import BusRedis
import BusRegions
import BusService
import BusStreams
import Logging
import Testing

@testable import BusGateway

@Suite("SpawnPipeline: idempotency keys and batches, without I/O")
struct SpawnPipelineIdempotencyTests {
    private static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    private static func pipeline() -> SpawnPipeline {
        var north = RegionConfig(
            name: "north", redis: RedisAddress(host: "h", port: 1), biomes: [BiomeID(53)!],
            stream: StreamConfig(maxlen: 100))
        north.stream.idempotencyTTLSeconds = 600
        let catalog = try! RegionCatalog(regions: [north])
        return SpawnPipeline(
            catalog: catalog, control: RegionControl(regions: 1), chestIDs: ChestIDGenerator(processTag: "t", worker: 0)
        )
    }

    private static func request(_ body: String, key: String?, path: String = "/v1/spawn") -> HTTPRequest {
        var headers: HTTPHeaders = ["Content-Type": "application/json"]
        if let key { headers.add("Idempotency-Key", key) }
        return HTTPRequest(method: .post, path: path, headers: headers, body: Array(body.utf8))
    }

    private static let spawn = #"{"biome_id": 53, "type": "gold", "coords": [1, 2]}"#

    @Test("a key makes the append the script, scoped, with the region's TTL; no key keeps the XADD")
    func keyedAppend() throws {
        var pipeline = Self.pipeline()
        guard case .append(let keyed, _) = pipeline.prepare(Self.request(Self.spawn, key: "k 1"), receivedAt: 5),
            case .keyed(let call, let key) = keyed.work
        else {
            Issue.record("not a keyed append")
            return
        }
        #expect(key.text == "k 1")
        let words = IdempotentAppendCall(
            region: pipeline.catalog.regions[keyed.region], receivedAt: keyed.receivedAt, appends: [call]
        ).command(sha: "x").words
        #expect(Array(words[3...7]) == ["EVSTREAM:53", "EVIDEMSTAT:53", "EVIDEM:53:_:k 1", "600", "100"])
        #expect(
            Array(words[11...14]) == ["80", "1", "", "53\ngold\n[1,2]\n"],
            "overhead, one append, no source, its fingerprint")
        guard case .append(let plain, _) = pipeline.prepare(Self.request(Self.spawn, key: nil), receivedAt: 5),
            case .plain = plain.work
        else {
            Issue.record("a spawn without a key was not a plain XADD")
            return
        }
    }

    @Test("a bad header is 400 naming it, before the body is read")
    func badHeader() {
        var pipeline = Self.pipeline()
        guard case .answer(let response, let label) = pipeline.prepare(Self.request("{", key: ""), receivedAt: 5)
        else {
            Issue.record("not refused")
            return
        }
        #expect(response.status == 400 && label == "none")
        #expect(String(decoding: response.body, as: UTF8.self).contains("Idempotency-Key"))
    }

    @Test("appended: 202; replayed: the stored chest id and Idempotent-Replayed; reused: 422")
    func scriptAnswers() throws {
        var pipeline = Self.pipeline()
        guard case .append(let append, _) = pipeline.prepare(Self.request(Self.spawn, key: "k"), receivedAt: 5) else {
            Issue.record("not appended")
            return
        }
        let fresh = pipeline.answer(
            append, script: .success(.appended(id: "1-0", chestID: append.chestID)), logger: Self.logger)
        #expect(fresh.status == 202 && fresh.headers["Idempotent-Replayed"] == nil)
        let replay = pipeline.answer(
            append, script: .success(.replayed(id: "1-0", chestID: "g-first")), logger: Self.logger)
        #expect(replay.status == 202 && replay.headers["Idempotent-Replayed"] == "true")
        #expect(
            String(decoding: replay.body, as: UTF8.self)
                == #"{"biome_id":53,"stream":"EVSTREAM:53","id":"1-0","chest_id":"g-first"}"#)
        let reused = pipeline.answer(append, script: .success(.reused), logger: Self.logger)
        #expect(reused.status == 422 && String(decoding: reused.body, as: UTF8.self).contains("idempotency_key_reused"))
        let lost = pipeline.answer(
            append, script: .failure(RedisError(errorReply: "NOSCRIPT No matching script")), logger: Self.logger)
        #expect(lost.status == 503, "a script lost between load and call: nothing written, retry")
    }

    @Test("a batch: the envelope whole, then each event; the answer lists results in order")
    func batch() throws {
        var pipeline = Self.pipeline()
        guard case .answer(let bad) = pipeline.prepareBatch(Self.request("[]", key: nil), receivedAt: 1) else {
            Issue.record("a bad envelope was run")
            return
        }
        #expect(bad.status == 400)
        let body = #"{"events": [\#(Self.spawn), {"biome_id": 9, "type": "t", "coords": [0, 0]}]}"#
        guard case .run(let events) = pipeline.prepareBatch(Self.request(body, key: nil), receivedAt: 1),
            case .success(let append) = events[0].planned
        else {
            Issue.record("not run")
            return
        }
        #expect(events.map(\.label) == ["53", "unknown"])
        let results = [
            SpawnBatchRun.EventResult(
                outcome: .accepted(id: "1-0", replayed: true), append: append, chestID: "c", label: "53"),
            SpawnBatchRun.EventResult(
                outcome: .refused(.unknownBiome(BiomeID(9)!)), append: nil, chestID: "", label: "unknown"),
        ]
        let response = SpawnBatchRun.response(results)
        #expect(response.status == 200)
        #expect(
            String(decoding: response.body, as: UTF8.self)
                == #"{"accepted":1,"rejected":1,"results":[{"status":202,"biome_id":53,"stream":"EVSTREAM:53","id":"1-0","chest_id":"c","replayed":true},{"status":404,"error":{"code":"unknown_biome","message":"biome 9 belongs to no configured region"}}]}"#
        )
    }
}
