// libFuzzer target for JSONParser (built only by scripts/fuzz).
//
// Oracle: parsing never traps, and whatever parses survives a round trip through JSONWriter
// unchanged, so the parser and the writer agree on strings, escapes and number literals.
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
func fuzzJSONParser(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    // libFuzzer owns the input and keeps it alive for this call only: copy it out first.
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    var writer = JSONWriter()
    write(value, to: &writer)
    let reparsed: JSONValue
    do {
        reparsed = try JSONParser.parse(writer.bytes)
    } catch {
        fatalError("the writer's output does not parse: \(error)\n\(writer.text)")
    }
    precondition(reparsed == value, "round trip changed the value:\n\(writer.text)")
    return 0
}

private func write(_ value: JSONValue, to writer: inout JSONWriter) {
    switch value {
    case .null: writer.null()
    case .bool(let flag): writer.bool(flag)
    case .number(let number): writer.raw(number.literal)
    case .string(let text): writer.string(text)
    case .array(let elements):
        writer.beginArray()
        for element in elements { write(element, to: &writer) }
        writer.endArray()
    case .object(let members):
        writer.beginObject()
        for member in members {
            writer.key(member.key)
            write(member.value, to: &writer)
        }
        writer.endObject()
    }
}

// SwiftPM renames an executable's `main` and points the linker at it, so libFuzzer's own
// `main` is never used: start libFuzzer's driver from here instead.
var arguments = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runFuzzerDriver(&arguments, &argv, fuzzJSONParser))
