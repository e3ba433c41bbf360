// libFuzzer target for the activation service's `If-Match` parsing (IfMatch, EntityTag)
// (built only by scripts/fuzz).
//
// The input is split at newlines into repeated header values, as evhttp hands them over.
// Oracle: parsing never traps, and every parsed tag reads back as itself from its own text.
import BusActivation

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
func fuzzIfMatch(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    // libFuzzer owns the input and keeps it alive for this call only: copy it out first.
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    let values = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
    guard let condition = IfMatch(headerValues: values) else { return 0 }
    guard case .tags(let tags) = condition else { return 0 }
    for tag in tags {
        precondition(IfMatch(headerValues: [tag.description]) == .tags([tag]), "tag does not round-trip: \(tag)")
        if let version = tag.version {
            precondition(version >= 0 && !tag.isWeak, "bad version from \(tag)")
            precondition(condition.matches(EntityTag(version: version)), "\(tag) does not match its own version")
        }
    }
    precondition(condition.candidateVersions.allSatisfy { $0 >= 0 }, "negative candidate version")
    return 0
}

// SwiftPM renames an executable's `main` and points the linker at it, so libFuzzer's own
// `main` is never used: start libFuzzer's driver from here instead.
var arguments = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runFuzzerDriver(&arguments, &argv, fuzzIfMatch))
