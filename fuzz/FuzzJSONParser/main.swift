// libFuzzer target for JSONParser (built only by scripts/fuzz).
//
// Oracle: parsing never traps, and whatever parses survives a round trip through JSONWriter
// unchanged, so the parser and the writer agree on strings, escapes and number literals.
import BusJSON
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzJSONParser(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = fuzzInput(data, count)
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

runFuzzer(fuzzJSONParser)
