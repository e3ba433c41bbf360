import BusLoop

/// A complete HTTP request, copied out of the connection's buffer: safe to keep after the reply.
package struct HTTPRequest: Sendable {
    package var method: HTTPMethod
    /// The path, still percent-encoded, without the query ("/v1/spawn").
    package var path: String
    /// The raw query string after "?", if any.
    package var query: String?
    package var headers: HTTPHeaders
    package var body: [UInt8]

    package init(
        method: HTTPMethod, path: String, query: String? = nil, headers: HTTPHeaders = [:],
        body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// Query parameters, percent-decoded; later duplicates are ignored.
    package var queryParameters: [String: String] {
        guard let query, !query.isEmpty else { return [:] }
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = PercentEncoding.decode(parts[0], plusIsSpace: true) else { continue }
            let value = parts.count > 1 ? PercentEncoding.decode(parts[1], plusIsSpace: true) : ""
            if result[name] == nil, let value { result[name] = value }
        }
        return result
    }

    /// True when Content-Type names JSON (`application/json`, parameters allowed).
    package var hasJSONContentType: Bool {
        // The value's bytes where they are (no String); a StaticString's bytes are a plain
        // buffer, where iterating a String's UTF8View cost ~30 instructions a byte.
        let expected: StaticString = "application/json"
        return headers.withFirstValue("Content-Type") { bytes in
            guard let bytes else { return false }
            var index = 0
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
            let matches = expected.withUTF8Buffer { expected in
                guard bytes.count - index >= expected.count else { return false }
                for offset in 0..<expected.count where asciiLower(bytes[index + offset]) != expected[offset] {
                    return false
                }
                return true
            }
            guard matches else { return false }
            index += expected.utf8CodeUnitCount
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
            return index == bytes.count || bytes[index] == UInt8(ascii: ";")
        }
    }
}
