import BusDomain
import BusService
import Testing

@testable import BusGateway

@Suite("Idempotency keys in requests")
struct IdempotencyRequestTests {
    @Test("a header of 1 to 255 printable ASCII characters is a key; no header, no key")
    func validHeaders() throws {
        #expect(try IdempotencyKey.fromHeader(nil).get() == nil)
        #expect(try IdempotencyKey.fromHeader("a").get()?.text == "a")
        let longest = String(repeating: "k", count: 255)
        #expect(try IdempotencyKey.fromHeader(longest).get()?.text == longest)
        let printable = String(decoding: (0x20...0x7E).map { UInt8($0) }, as: UTF8.self)
        #expect(try IdempotencyKey.fromHeader(printable).get()?.text == printable)
    }

    @Test("empty, too long, control or non-ASCII values are 400 invalid_field naming the header")
    func invalidHeaders() {
        for value in ["", String(repeating: "k", count: 256), "tab\there", "new\nline", "del\u{7F}", "clé"] {
            guard case .failure(let error) = IdempotencyKey.fromHeader(value) else {
                Issue.record("accepted \(value.debugDescription)")
                continue
            }
            #expect(error.status == 400)
            #expect(error.code == "invalid_field")
            #expect(error.message.hasPrefix("Idempotency-Key "))
        }
    }

    @Test("scopes: the open scope is no client's; client names follow the region-name rule")
    func scopes() {
        #expect(IdempotencyScope.open.text == "_")
        #expect(IdempotencyScope(client: "gs-emerald-1")?.text == "gs-emerald-1")
        #expect(IdempotencyScope(client: "_") == nil)
        #expect(IdempotencyScope(client: "Bad:Name") == nil)
    }

    @Test("records and stats are per biome; records per scope")
    func keyNames() throws {
        let biome = try #require(BiomeID(53))
        let key = try #require(IdempotencyKey("order 1:a"))
        let client = try #require(IdempotencyScope(client: "gs-1"))
        #expect(IdempotencyKeys.record(biome, scope: .open, key: key) == "EVIDEM:53:_:order 1:a")
        #expect(IdempotencyKeys.record(biome, scope: client, key: key) == "EVIDEM:53:gs-1:order 1:a")
        #expect(IdempotencyKeys.stats(biome) == "EVIDEMSTAT:53")
    }

    @Test("the fingerprint is the validated spawn: spelling, spacing and ignored members do not count")
    func fingerprint() throws {
        let first = try SpawnEvent.decode(body: Array(#"{"biome_id":5,"type":"chest","coords":[1.50,2]}"#.utf8)).get()
        let second = try SpawnEvent.decode(
            body: Array(#"{ "coords": [1.5, 2.0], "x": true, "type": "chest", "biome_id": 5 }"#.utf8)
        ).get()
        #expect(first.idempotencyFingerprint == second.idempotencyFingerprint)
        var moved = first
        moved.coordinates = [1.5, 3]
        #expect(moved.idempotencyFingerprint != first.idempotencyFingerprint)
        var named = first
        named.chestID = "c-1"
        #expect(named.idempotencyFingerprint != first.idempotencyFingerprint)
    }
}

@Suite("Idempotency record accounting")
struct IdempotencyAccountingTests {
    @Test("sixteen buckets per TTL, at least a second wide")
    func buckets() {
        #expect(IdempotencyAccounting.bucketSeconds(ttlSeconds: 86400) == 5400)
        #expect(IdempotencyAccounting.bucketSeconds(ttlSeconds: 17) == 2)
        #expect(IdempotencyAccounting.bucketSeconds(ttlSeconds: 1) == 1)
        #expect(IdempotencyAccounting.bucket(nowMs: 10_799_999, ttlSeconds: 86400) == 1)
        #expect(IdempotencyAccounting.bucket(nowMs: 10_800_000, ttlSeconds: 86400) == 2)
        // Bucket 1 (5400 … 10799 s) has all expired at 10800 + 86400 s, when the hash may go.
        #expect(IdempotencyAccounting.statsExpiry(bucket: 1, ttlSeconds: 86400) == 97200)
    }

    @Test("live totals: buckets younger than the TTL count, older ones and foreign fields do not")
    func live() {
        let ttl = 160  // buckets of 10 s
        let fields: [String: Int64] = [
            "0:keys": 5, "0:bytes": 500, "1:keys": 2, "1:bytes": 200, "16:keys": 1, "16:bytes": 100, "junk": 9,
            "x:keys": 3,
        ]
        // At 170 s the oldest record that may live was written at 10 s: bucket 1 on.
        let at170 = IdempotencyAccounting.live(fields, nowMs: 170_000, ttlSeconds: ttl)
        #expect(at170.keys == 3 && at170.bytes == 300)
        let at165 = IdempotencyAccounting.live(fields, nowMs: 165_000, ttlSeconds: ttl)
        #expect(at165.keys == 8 && at165.bytes == 800, "bucket 0's last records live until 170 s")
        #expect(IdempotencyAccounting.live([:], nowMs: 0, ttlSeconds: ttl).keys == 0)
    }
}

@Suite("Batch envelope decoding")
struct SpawnBatchDecodingTests {
    private func decode(_ json: String) -> Result<SpawnBatch, APIError> {
        SpawnBatch.decode(body: Array(json.utf8))
    }

    private let spawn = #"{"biome_id": 1, "type": "chest", "coords": [1, 2]}"#

    @Test("bad envelopes are one 400")
    func badEnvelopes() {
        let cases: [(String, String)] = [
            ("not json", "malformed_json"),
            ("[]", "malformed_json"),
            (#"{"event": []}"#, "missing_field"),
            (#"{"events": {}}"#, "invalid_field"),
            (#"{"events": null}"#, "invalid_field"),
            (#"{"events": []}"#, "invalid_field"),
            ("{\"events\": [" + Array(repeating: spawn, count: 1001).joined(separator: ",") + "]}", "invalid_field"),
        ]
        for (body, code) in cases {
            guard case .failure(let error) = decode(body) else {
                Issue.record("accepted \(body.prefix(40))")
                continue
            }
            #expect(error.status == 400)
            #expect(error.code == code, "\(body.prefix(40))")
        }
    }

    @Test("1 and 1000 events are accepted")
    func limits() throws {
        #expect(try decode("{\"events\": [\(spawn)]}").get().items.count == 1)
        let full = "{\"events\": [" + Array(repeating: spawn, count: 1000).joined(separator: ",") + "]}"
        #expect(try decode(full).get().items.count == 1000)
    }

    @Test("each event is judged alone, in request order, with the single spawn's rules")
    func perEvent() throws {
        let body = """
            {"events": [
              {"biome_id": 1, "type": "chest", "coords": [1, 2], "idempotency_key": "k-1"},
              7,
              {"biome_id": "1", "type": "chest", "coords": [1, 2]},
              {"biome_id": 2, "type": "chest", "coords": [1, 2, 3], "chest_id": "c-9", "idempotency_key": null},
              {"biome_id": 2, "type": "chest", "coords": [1, 2], "idempotency_key": ""},
              {"biome_id": 2, "type": "chest", "coords": [1, 2], "idempotency_key": 5}
            ], "note": "ignored"}
            """
        let items = try decode(body).get().items
        #expect(items.count == 6)
        let first = try items[0].get()
        #expect(first.event.biome == BiomeID(1))
        #expect(first.key?.text == "k-1")
        #expect(items[1].failureCode == "malformed_json")
        #expect(items[2].failureCode == "invalid_field")
        let fourth = try items[3].get()
        #expect(fourth.key == nil)
        #expect(fourth.event.chestID == "c-9")
        #expect(items[4].failureCode == "invalid_field")
        #expect(items[5].failureCode == "invalid_field")
        if case .failure(let error) = items[5] { #expect(error.message.hasPrefix("idempotency_key ")) }
    }
}

extension Result where Failure == APIError {
    fileprivate var failureCode: String? {
        if case .failure(let error) = self { return error.code }
        return nil
    }
}
