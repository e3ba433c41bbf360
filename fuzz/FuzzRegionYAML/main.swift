// libFuzzer target for region file loading (RegionConfig.parse(yaml:file:) over Yams/libyaml)
// (built only by scripts/fuzz).
//
// Oracle: loading never traps or hangs, and an accepted region passes the catalog's checks.
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
func fuzzRegionYAML(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    // libFuzzer owns the input and keeps it alive for this call only: copy it out first.
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    // RegionCatalog.load reads files the same way: invalid UTF-8 is refused before parsing.
    guard let text = String(validating: bytes, as: UTF8.self) else { return 0 }
    guard let region = try? RegionConfig.parse(yaml: text, file: "fuzz.yaml") else { return 0 }
    precondition(Identifiers.isValidRegionName(region.name), "invalid name accepted: \(region.name)")
    _ = try? RegionCatalog(regions: [region])
    return 0
}

// SwiftPM renames an executable's `main` and points the linker at it, so libFuzzer's own
// `main` is never used: start libFuzzer's driver from here instead.
var arguments = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runFuzzerDriver(&arguments, &argv, fuzzRegionYAML))
