/// A complete HTTP request, copied out of libevent: safe to keep after the reply.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The path, still percent-encoded, without the query ("/v1/spawn").
    public var path: String
    /// The raw query string after "?", if any.
    public var query: String?
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(
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
    public var queryParameters: [String: String] {
        guard let query, !query.isEmpty else { return [:] }
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = PercentDecoding.decode(parts[0], plusIsSpace: true) else { continue }
            let value = parts.count > 1 ? PercentDecoding.decode(parts[1], plusIsSpace: true) : ""
            if result[name] == nil, let value { result[name] = value }
        }
        return result
    }

    /// True when Content-Type names JSON (`application/json`, parameters allowed).
    public var hasJSONContentType: Bool {
        guard var type = headers["Content-Type"] else { return false }
        return type.withUTF8 { bytes in
            let expected = "application/json".utf8
            var index = 0
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
            for byte in expected {
                guard index < bytes.count, asciiLower(bytes[index]) == byte else { return false }
                index += 1
            }
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
            return index == bytes.count || bytes[index] == UInt8(ascii: ";")
        }
    }
}

/// Percent-decoding for paths and queries (RFC 3986).
public enum PercentDecoding {
    /// Decodes `text`; nil when an escape is malformed or the result is not UTF-8.
    public static func decode(_ text: Substring, plusIsSpace: Bool = false) -> String? {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) })
        else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue)
                else { return nil }
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
