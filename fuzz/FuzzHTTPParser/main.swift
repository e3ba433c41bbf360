// libFuzzer target for BusHTTP's request parser (HTTPRequestParser, ChunkedBody), which reads
// every byte a client sends (built only by scripts/fuzz).
//
// Oracles: parsing never traps; a complete head lies within the input and names a path; a
// head found complete in a prefix is found the same in the whole input (more bytes never
// change what was already read, as the server re-parses after each read); a chunked body
// found complete lies within the input and decodes to exactly the size the scan reported.
import BusHTTP
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzHTTPParser(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = fuzzInput(data, count)
    bytes.withUnsafeBytes { input in
        let whole = HTTPRequestParser.parseHead(input, maxSize: 4096, maxFields: 50)
        let cut = bytes.isEmpty ? 0 : Int(bytes[0]) * bytes.count / 256
        let prefix = HTTPRequestParser.parseHead(
            UnsafeRawBufferPointer(rebasing: input[..<cut]), maxSize: 4096, maxFields: 50)
        if case .complete(let early) = prefix {
            guard case .complete(let late) = whole, late.length == early.length, late.path == early.path else {
                preconditionFailure("a complete head changed when more bytes arrived")
            }
        }
        guard case .complete(let head) = whole else { return }
        precondition(head.length <= input.count && !head.path.isEmpty, "head outside the input")
        let rest = UnsafeRawBufferPointer(rebasing: input[head.length...])
        if case .complete(let length, let bodySize) = ChunkedBody.scan(rest, limit: 1 << 20, maxTrailerSize: 4096) {
            precondition(length <= rest.count && bodySize <= length, "chunked body outside the input")
            precondition(ChunkedBody.decode(rest, bodySize: bodySize).count == bodySize, "decoded size differs")
        }
    }
    return 0
}

runFuzzer(fuzzHTTPParser)
