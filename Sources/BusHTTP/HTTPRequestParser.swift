#if canImport(Glibc)
    import Glibc
#endif

/// How a request's body is framed (RFC 9112 §6).
package enum HTTPBodyFraming: Equatable, Sendable {
    case none
    case length(Int)
    case chunked
}

/// A request line and header block, parsed out of a connection's input.
package struct HTTPRequestHead: Sendable {
    package var method: HTTPMethod
    package var path: String
    package var query: String?
    package var headers: HTTPHeaders
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    package var minorVersion: Int
    /// Whether the connection stays open after the reply (version default, then `Connection`).
    package var keepAlive: Bool
    package var framing: HTTPBodyFraming
    /// `Expect: 100-continue` on HTTP/1.1: the client waits for a `100 Continue` before the body.
    package var expectsContinue: Bool
    /// Bytes from the start of the input through the blank line ending the head.
    package var length: Int
}

/// Why a request could not be read; each maps to the status the server answers before closing.
package enum HTTPParseError: Error, Equatable, Sendable {
    /// Bad syntax (request line, header line, Content-Length, chunk framing): 400.
    case malformed(String)
    /// The head is longer than the limit, or has more fields than allowed: 431.
    case headersTooLarge
    /// A Transfer-Encoding other than `chunked`: 501.
    case unsupportedTransferEncoding
    /// A version other than HTTP/1.0 or HTTP/1.1: 505.
    case unsupportedVersion

    package var status: Int {
        switch self {
        case .malformed: 400
        case .headersTooLarge: 431
        case .unsupportedTransferEncoding: 501
        case .unsupportedVersion: 505
        }
    }
}

/// The outcome of one attempt to parse a head from the bytes received so far.
package enum HTTPHeadParse: Sendable {
    case incomplete
    case complete(HTTPRequestHead)
    case failed(HTTPParseError)
}

/// An HTTP/1.1 request parser over a contiguous byte buffer (RFC 9112), with no state of its
/// own: the server calls it again on the unread input after every read. Heads are small (the
/// limit is a few KiB), so rescanning a partial head costs little and keeps the parser simple.
package enum HTTPRequestParser {
    /// Parses the head at the start of `bytes` (leading empty lines are skipped, as RFC 9112
    /// §2.2 allows). `maxSize` caps the head in bytes, `maxFields` its field lines.
    package static func parseHead(_ bytes: UnsafeRawBufferPointer, maxSize: Int, maxFields: Int) -> HTTPHeadParse {
        var start = 0
        while start < bytes.count, bytes[start] == cr || bytes[start] == lf { start += 1 }
        guard let end = endOfHead(bytes, from: start, limit: maxSize) else {
            return bytes.count > maxSize ? .failed(.headersTooLarge) : .incomplete
        }
        if end > maxSize { return .failed(.headersTooLarge) }
        do {
            return .complete(try head(bytes, from: start, to: end, maxFields: maxFields))
        } catch {
            return .failed(error)
        }
    }

    /// The index just past the blank line ending the head (CRLF CRLF, or bare LFs), if present.
    private static func endOfHead(_ bytes: UnsafeRawBufferPointer, from start: Int, limit: Int) -> Int? {
        let stop = min(bytes.count, limit + 4)
        var index = start
        while let lineFeed = firstIndex(of: lf, in: UnsafeRawBufferPointer(rebasing: bytes[..<stop]), from: index) {
            // A line feed: the head ends if the next line is empty.
            if lineFeed + 1 < bytes.count, bytes[lineFeed + 1] == lf { return lineFeed + 2 }
            if lineFeed + 2 < bytes.count, bytes[lineFeed + 1] == cr, bytes[lineFeed + 2] == lf { return lineFeed + 3 }
            index = lineFeed + 1
        }
        return nil
    }

    private static func head(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int, maxFields: Int)
        throws(HTTPParseError) -> HTTPRequestHead
    {
        var lineStart = start
        var lineEnd = lineEndIndex(bytes, from: lineStart)
        let (method, path, query, minor) = try requestLine(bytes, lineStart, contentEnd(bytes, lineStart, lineEnd))
        // Where each field's name and value lie, relative to the first field line; one
        // allocation for the usual handful of fields, not one per doubling.
        var spans: [Int] = []
        spans.reserveCapacity(32)
        var contentLength: Int?
        var chunked = false
        var close = false
        var keepAliveToken = false
        var expectsContinue = false
        var fieldCount = 0
        lineStart = lineEnd + 1
        let fieldsStart = lineStart
        var fieldsEnd = lineStart
        while true {
            lineEnd = lineEndIndex(bytes, from: lineStart)
            let stop = contentEnd(bytes, lineStart, lineEnd)
            if stop == lineStart { break }  // the blank line
            fieldCount += 1
            if fieldCount > maxFields { throw .headersTooLarge }
            if bytes[lineStart] == space || bytes[lineStart] == tab {
                throw .malformed("obsolete line folding in a header field")
            }
            var colon = lineStart
            while colon < stop, bytes[colon] != colonByte {
                guard isTokenByte(bytes[colon]) else { throw .malformed("invalid header field name") }
                colon += 1
            }
            guard colon < stop, colon > lineStart else { throw .malformed("header field without a name or colon") }
            var valueStart = colon + 1
            var valueEnd = stop
            while valueStart < valueEnd, bytes[valueStart] == space || bytes[valueStart] == tab { valueStart += 1 }
            while valueEnd > valueStart, bytes[valueEnd - 1] == space || bytes[valueEnd - 1] == tab { valueEnd -= 1 }
            for index in valueStart..<valueEnd where bytes[index] < space && bytes[index] != tab || bytes[index] == 127
            {
                throw .malformed("control character in a header field value")
            }
            let name = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<colon])
            let value = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            switch name.count {
            case 14 where equalsLowercase(name, "content-length"):
                let length = try contentLengthValue(value)
                if let contentLength, contentLength != length { throw .malformed("conflicting Content-Length") }
                contentLength = length
            case 17 where equalsLowercase(name, "transfer-encoding"):
                // Only `chunked` alone is accepted: any other coding (or a list) is refused.
                guard !chunked, equalsLowercase(value, "chunked") else { throw .unsupportedTransferEncoding }
                chunked = true
            case 10 where equalsLowercase(name, "connection"):
                forEachToken(value) { token in
                    if equalsLowercase(token, "close") { close = true }
                    if equalsLowercase(token, "keep-alive") { keepAliveToken = true }
                }
            case 6 where equalsLowercase(name, "expect"):
                expectsContinue = equalsLowercase(value, "100-continue")
            default:
                break
            }
            spans.append(lineStart - fieldsStart)
            spans.append(colon - fieldsStart)
            spans.append(valueStart - fieldsStart)
            spans.append(valueEnd - fieldsStart)
            fieldsEnd = stop
            lineStart = lineEnd + 1
        }
        // Both framings at once is how requests are smuggled past proxies (RFC 9112 §6.1).
        if chunked, contentLength != nil { throw .malformed("both Content-Length and Transfer-Encoding") }
        let framing: HTTPBodyFraming =
            chunked ? .chunked : (contentLength ?? 0) > 0 ? .length(contentLength!) : .none
        let headers =
            spans.isEmpty
            ? HTTPHeaders()
            : HTTPHeaders(
                parsed: ParsedFields(
                    bytes: [UInt8](UnsafeRawBufferPointer(rebasing: bytes[fieldsStart..<fieldsEnd])), spans: spans))
        return HTTPRequestHead(
            method: method, path: path, query: query, headers: headers, minorVersion: minor,
            keepAlive: minor == 1 ? !close : keepAliveToken && !close, framing: framing,
            expectsContinue: expectsContinue && minor == 1 && framing != .none, length: end)
    }

    /// `METHOD SP request-target SP HTTP/1.x`.
    private static func requestLine(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int)
        throws(HTTPParseError) -> (HTTPMethod, String, String?, Int)
    {
        var index = start
        while index < end, bytes[index] != space {
            guard isTokenByte(bytes[index]) else { throw .malformed("invalid method") }
            index += 1
        }
        guard index > start, index < end else { throw .malformed("no request target") }
        let method = HTTPMethod(token: UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        let targetStart = index + 1
        index = targetStart
        while index < end, bytes[index] != space {
            guard bytes[index] > space, bytes[index] != 127 else { throw .malformed("invalid request target") }
            index += 1
        }
        guard index > targetStart, end - index == 9 else { throw .malformed("invalid request line") }
        let version = UnsafeRawBufferPointer(rebasing: bytes[(index + 1)..<end])
        guard version.starts(with: "HTTP/".utf8), version[6] == UInt8(ascii: "."),
            isDigit(version[5]), isDigit(version[7])
        else { throw .malformed("invalid HTTP version") }
        guard version[5] == UInt8(ascii: "1"), version[7] <= UInt8(ascii: "1") else { throw .unsupportedVersion }
        let (path, query) = try target(UnsafeRawBufferPointer(rebasing: bytes[targetStart..<index]))
        return (method, path, query, Int(version[7] - UInt8(ascii: "0")))
    }

    /// Splits origin-form (`/p?q`), absolute-form (`http://host/p?q`, path from its first
    /// `/`) or asterisk-form (`*`) into path and query; a fragment is dropped.
    private static func target(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> (String, String?) {
        var pathStart = 0
        if bytes[0] != slash {
            if bytes.count == 1, bytes[0] == UInt8(ascii: "*") { return ("*", nil) }
            guard let schemeEnd = firstIndex(of: colonByte, in: bytes, from: 0), schemeEnd + 2 < bytes.count,
                bytes[schemeEnd + 1] == slash, bytes[schemeEnd + 2] == slash
            else { throw .malformed("invalid request target") }
            pathStart = firstIndex(of: slash, in: bytes, from: schemeEnd + 3) ?? bytes.count
        }
        var pathEnd = pathStart
        while pathEnd < bytes.count, bytes[pathEnd] != question, bytes[pathEnd] != hash { pathEnd += 1 }
        let path = pathEnd == pathStart ? "/" : string(bytes, pathStart, pathEnd)
        guard pathEnd < bytes.count, bytes[pathEnd] == question else { return (path, nil) }
        let queryEnd = firstIndex(of: hash, in: bytes, from: pathEnd + 1) ?? bytes.count
        return (path, string(bytes, pathEnd + 1, queryEnd))
    }

    private static func contentLengthValue(_ value: UnsafeRawBufferPointer) throws(HTTPParseError) -> Int {
        // At most 15 digits: no overflow, and far above any limit.
        guard !value.isEmpty, value.count <= 15 else { throw .malformed("invalid Content-Length") }
        var length = 0
        for byte in value {
            guard isDigit(byte) else { throw .malformed("invalid Content-Length") }
            length = length * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return length
    }

    /// The index of the line feed ending the line at `start` (the head is known to contain one).
    private static func lineEndIndex(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        firstIndex(of: lf, in: bytes, from: start)!
    }

    /// The end of a line's content: before its CR LF, or its bare LF.
    private static func contentEnd(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ lineFeed: Int) -> Int {
        lineFeed > start && bytes[lineFeed - 1] == cr ? lineFeed - 1 : lineFeed
    }

    private static func forEachToken(_ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        while start <= value.count {
            var end = start
            while end < value.count, value[end] != UInt8(ascii: ",") { end += 1 }
            var tokenStart = start
            var tokenEnd = end
            while tokenStart < tokenEnd, value[tokenStart] == space || value[tokenStart] == tab { tokenStart += 1 }
            while tokenEnd > tokenStart, value[tokenEnd - 1] == space || value[tokenEnd - 1] == tab { tokenEnd -= 1 }
            body(UnsafeRawBufferPointer(rebasing: value[tokenStart..<tokenEnd]))
            start = end + 1
        }
    }
}

/// Chunked transfer coding of a request body (RFC 9112 §7.1), read from a contiguous buffer.
package enum ChunkedBody {
    package enum Scan: Equatable, Sendable {
        /// More bytes are needed; `bodySize` bytes of data were framed so far.
        case incomplete(bodySize: Int)
        /// The body ends `length` bytes into the input (trailers included) with `bodySize` bytes.
        case complete(length: Int, bodySize: Int)
        /// The decoded body would exceed the limit.
        case tooLarge
        case failed(HTTPParseError)
    }

    /// Walks the chunk framing at the start of `bytes`: chunk by chunk, never byte by byte
    /// through data, so calling it again after each read stays cheap.
    package static func scan(_ bytes: UnsafeRawBufferPointer, limit: Int, maxTrailerSize: Int) -> Scan {
        var index = 0
        var bodySize = 0
        while true {
            guard let lineFeed = firstIndex(of: lf, in: bytes, from: index) else {
                // A size line has no business being long (extensions are ignored but bounded).
                return bytes.count - index > 1024
                    ? .failed(.malformed("chunk size line too long")) : .incomplete(bodySize: bodySize)
            }
            var size = 0
            var digits = index
            while digits < lineFeed, let value = hexValue(bytes[digits]) {
                guard digits - index < 8 else { return .tooLarge }
                size = size << 4 | Int(value)
                digits += 1
            }
            guard digits > index else { return .failed(.malformed("invalid chunk size")) }
            let lineContentEnd = bytes[lineFeed - 1] == cr ? lineFeed - 1 : lineFeed
            if digits < lineContentEnd, bytes[digits] != UInt8(ascii: ";"), bytes[digits] != space,
                bytes[digits] != tab
            {
                return .failed(.malformed("invalid chunk size"))
            }
            index = lineFeed + 1
            if size == 0 { break }
            bodySize += size
            if bodySize > limit { return .tooLarge }
            // The data, then CR LF (or a bare LF).
            guard index + size < bytes.count else { return .incomplete(bodySize: bodySize) }
            index += size
            if bytes[index] == cr {
                guard index + 1 < bytes.count else { return .incomplete(bodySize: bodySize) }
                index += 1
            }
            guard bytes[index] == lf else { return .failed(.malformed("chunk data not followed by CRLF")) }
            index += 1
        }
        // Trailer fields, ignored, up to an empty line.
        let trailerStart = index
        while true {
            guard let lineFeed = firstIndex(of: lf, in: bytes, from: index) else {
                return bytes.count - trailerStart > maxTrailerSize
                    ? .failed(.headersTooLarge) : .incomplete(bodySize: bodySize)
            }
            let empty = lineFeed == index || (lineFeed == index + 1 && bytes[index] == cr)
            index = lineFeed + 1
            if index - trailerStart > maxTrailerSize { return .failed(.headersTooLarge) }
            if empty { return .complete(length: index, bodySize: bodySize) }
        }
    }

    /// The data of a body `scan` found complete, concatenated.
    package static func decode(_ bytes: UnsafeRawBufferPointer, bodySize: Int) -> [UInt8] {
        guard bodySize > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: bodySize) { buffer, count in
            var index = 0
            while count < bodySize {
                let lineFeed = firstIndex(of: lf, in: bytes, from: index)!
                var size = 0
                while let value = hexValue(bytes[index]) {
                    size = size << 4 | Int(value)
                    index += 1
                }
                index = lineFeed + 1
                let chunk = UnsafeRawBufferPointer(rebasing: bytes[index..<(index + size)])
                UnsafeMutableRawPointer(buffer.baseAddress! + count).copyMemory(
                    from: chunk.baseAddress!, byteCount: size)
                count += size
                index += size
                index += bytes[index] == cr ? 2 : 1
            }
        }
    }
}

extension HTTPMethod {
    /// The method a request line names; tokens it does not know are `unrecognized`.
    init(token: UnsafeRawBufferPointer) {
        // Methods are case-sensitive (RFC 9110 §9.1).
        switch token.count {
        case 3 where token.elementsEqual("GET".utf8): self = .get
        case 3 where token.elementsEqual("PUT".utf8): self = .put
        case 4 where token.elementsEqual("POST".utf8): self = .post
        case 4 where token.elementsEqual("HEAD".utf8): self = .head
        case 5 where token.elementsEqual("PATCH".utf8): self = .patch
        case 5 where token.elementsEqual("TRACE".utf8): self = .trace
        case 6 where token.elementsEqual("DELETE".utf8): self = .delete
        case 7 where token.elementsEqual("OPTIONS".utf8): self = .options
        case 7 where token.elementsEqual("CONNECT".utf8): self = .connect
        default: self = .unrecognized
        }
    }
}

private let cr = UInt8(ascii: "\r")
private let lf = UInt8(ascii: "\n")
private let space = UInt8(ascii: " ")
private let tab = UInt8(ascii: "\t")
private let slash = UInt8(ascii: "/")
private let colonByte = UInt8(ascii: ":")
private let question = UInt8(ascii: "?")
private let hash = UInt8(ascii: "#")

@inline(__always)
private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

/// `tchar` of RFC 9110 §5.6.2.
func isTokenByte(_ byte: UInt8) -> Bool {
    // RFC 9110 tchar as two bit sets (bytes 0–63 and 64–127): a shift and a mask per byte of
    // every field name, where a switch over the ranges cost several compares.
    byte < 64 ? tokenBytesLow >> UInt64(byte) & 1 != 0 : byte < 128 && tokenBytesHigh >> UInt64(byte - 64) & 1 != 0
}

/// `!#$%&'*+-.` and the digits, bit n for byte n (constants: a computed global is a lazy
/// initializer check on every access). Checked against the RFC's list by a test.
private let tokenBytesLow: UInt64 = 0x03FF_6CFA_0000_0000
/// The letters and `^_`|~`, bit n for byte 64 + n.
private let tokenBytesHigh: UInt64 = 0x57FF_FFFF_C7FF_FFFE

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// ASCII case-insensitive comparison with a lowercase literal.
private func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
    guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
    let expected = lowercase.utf8Start
    for index in 0..<bytes.count where asciiLower(bytes[index]) != expected[index] { return false }
    return true
}

private func firstIndex(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
    guard start < bytes.count else { return nil }
    // memchr: the one byte search libc vectorizes.
    guard let found = memchr(bytes.baseAddress! + start, Int32(byte), bytes.count - start) else { return nil }
    return bytes.baseAddress!.distance(to: UnsafeRawPointer(found))
}

private func string(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> String {
    String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
}
