// libFuzzer target for the activation service's `If-Match` parsing (IfMatch, EntityTag)
// (built only by scripts/fuzz).
//
// The input is split at newlines into repeated header values, as a repeated header arrives.
// Oracle: parsing never traps, and every parsed tag reads back as itself from its own text.
import BusActivation
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzIfMatch(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = fuzzInput(data, count)
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

runFuzzer(fuzzIfMatch)
