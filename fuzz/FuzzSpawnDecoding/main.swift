// libFuzzer target for SpawnEvent.decode(body:), the gateway's `POST /v1/spawn` validation, and
// SpawnBatch.decode(body:) (`POST /v1/spawn/batch`) over the same bytes (built only by scripts/fuzz).
//
// Oracle: decoding never traps, and an accepted event (alone or in a batch) satisfies every rule
// of the contract; an accepted batch holds 1 … 1000 events, and an accepted key 1 … 255
// printable ASCII characters. Differential: an event the plain-form scanner reads is exactly the
// full parser's event for the same body.
import BusDomain
import BusGateway
import BusJSON
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzSpawnDecoding(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let body = fuzzInput(data, count)
    if case .success(let batch) = SpawnBatch.decode(body: body) {
        precondition(SpawnBatch.eventLimit.contains(batch.items.count), "batch size outside 1 … 1000 accepted")
        for case .success(let item) in batch.items {
            check(item.event)
            if let key = item.key { check(key) }
        }
    }
    if case .success(let key?) = IdempotencyKey.fromHeader(String(decoding: body, as: UTF8.self)) { check(key) }
    let parsed = SpawnEvent.decodeParsing(body: body)
    if let scanned = SpawnBodyScanner.event(in: body) {
        precondition(parsed == .success(scanned), "the scanner read \(scanned), the parser \(parsed)")
    }
    guard case .success(let event) = parsed else { return 0 }
    check(event)
    return 0
}

private func check(_ key: IdempotencyKey) {
    precondition((1...255).contains(key.text.utf8.count), "key of \(key.text.utf8.count) bytes accepted")
    precondition(key.text.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E }, "non-printable key accepted")
}

private func check(_ event: SpawnEvent) {
    precondition(BiomeID.range.contains(Int64(event.biome.value)), "biome out of range")
    precondition(Identifiers.isValidType(event.type), "invalid type accepted: \(event.type)")
    precondition((2...3).contains(event.coordinates.count), "wrong coordinate count accepted")
    precondition(event.coordinates.allSatisfy(\.isFinite), "non-finite coordinate accepted")
    if let chestID = event.chestID {
        precondition(Identifiers.isValidChestID(chestID), "invalid chest_id accepted: \(chestID)")
    }
    // The stream entry's coords field must itself be valid JSON.
    precondition((try? JSONParser.parse(Array(event.coordinatesText.utf8))) != nil, "bad coords text")
}

runFuzzer(fuzzSpawnDecoding)
