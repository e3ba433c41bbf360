// libFuzzer target for SpawnEvent.decode(body:), the gateway's `POST /v1/spawn` validation
// (built only by scripts/fuzz).
//
// Oracle: decoding never traps, and an accepted event satisfies every rule of the contract.
import BusDomain
import BusGateway
import BusJSON
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzSpawnDecoding(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let body = fuzzInput(data, count)
    guard case .success(let event) = SpawnEvent.decode(body: body) else { return 0 }
    precondition(BiomeID.range.contains(Int64(event.biome.value)), "biome out of range")
    precondition(Identifiers.isValidType(event.type), "invalid type accepted: \(event.type)")
    precondition((2...3).contains(event.coordinates.count), "wrong coordinate count accepted")
    precondition(event.coordinates.allSatisfy(\.isFinite), "non-finite coordinate accepted")
    if let chestID = event.chestID {
        precondition(Identifiers.isValidChestID(chestID), "invalid chest_id accepted: \(chestID)")
    }
    // The stream entry's coords field must itself be valid JSON.
    precondition((try? JSONParser.parse(Array(event.coordinatesText.utf8))) != nil, "bad coords text")
    return 0
}

runFuzzer(fuzzSpawnDecoding)
