// libFuzzer target for SpawnEvent.decode(body:), the gateway's `POST /v1/spawn` validation
// (built only by scripts/fuzz).
//
// Oracle: decoding never traps, and an accepted event satisfies every rule of the contract.
import BusDomain

#if canImport(Glibc)
    import Glibc
#endif

/// libFuzzer's driver (compiler-rt FuzzerDriver.cpp): reads libFuzzer's flags from argv and
/// calls `callback` with every input it generates. No header of it ships with Swift, and it
/// takes only pointers and returns an int, which Swift passes exactly as C does.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzSpawnDecoding(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    // libFuzzer owns the input and keeps it alive for this call only: copy it out first.
    let body = data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
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

// SwiftPM renames an executable's `main` and points the linker at it, so libFuzzer's own
// `main` is never used: start libFuzzer's driver from here instead.
var arguments = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runFuzzerDriver(&arguments, &argv, fuzzSpawnDecoding))
