// libFuzzer target for region file loading (RegionConfig.parse(yaml:file:) over Yams/libyaml)
// (built only by scripts/fuzz).
//
// Oracle: loading never traps or hangs, and an accepted region passes the catalog's checks.
import BusDomain
import BusRegions
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzRegionYAML(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = fuzzInput(data, count)
    // RegionCatalog.load reads files the same way: invalid UTF-8 is refused before parsing.
    guard let text = String(validating: bytes, as: UTF8.self) else { return 0 }
    guard let region = try? RegionConfig.parse(yaml: text, file: "fuzz.yaml") else { return 0 }
    precondition(Identifiers.isValidRegionName(region.name), "invalid name accepted: \(region.name)")
    _ = try? RegionCatalog(regions: [region])
    return 0
}

runFuzzer(fuzzRegionYAML)
