/// A strict RFC 8259 JSON parser for request bodies.
///
/// Foundation's decoders cannot tell `53` from `53.0` and cost a few microseconds per spawn on
/// the gateway's hot path; this one keeps number literals, rejects duplicate keys, invalid
/// UTF-8 and nesting deeper than `maxDepth`, and reports where the text went wrong.
package struct JSONParser {
    package struct SyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
        package let offset: Int
        package let reason: String
        package var description: String { "\(reason) at byte \(offset)" }
    }

    package static let maxDepth = 64

    /// Objects with more members than this check duplicate keys with a hash set.
    static let linearScanLimit = 16

    /// Parses one JSON value filling the whole of `bytes` (surrounding whitespace allowed).
    package static func parse(_ bytes: [UInt8]) throws(SyntaxError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(SyntaxError) in
            var parser = Cursor(bytes: buffer)
            parser.skipWhitespace()
            let value = try parser.parseValue(depth: 0)
            parser.skipWhitespace()
            guard parser.position == buffer.count else { throw parser.error("unexpected text after the JSON value") }
            return value
        }
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        func error(_ reason: String) -> SyntaxError {
            SyntaxError(offset: position, reason: reason)
        }

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
                position += 1
            }
        }

        mutating func expect(_ literal: StaticString) throws(SyntaxError) {
            let count = literal.utf8CodeUnitCount
            guard position + count <= bytes.count else { throw error("unexpected end of input") }
            for index in 0..<count where bytes[position + index] != literal.utf8Start[index] {
                throw error("invalid literal")
            }
            position += count
        }

        mutating func parseValue(depth: Int) throws(SyntaxError) -> JSONValue {
            guard depth < JSONParser.maxDepth else { throw error("nesting deeper than \(JSONParser.maxDepth)") }
            guard let byte = current else { throw error("unexpected end of input") }
            switch byte {
            case UInt8(ascii: "{"): return try parseObject(depth: depth)
            case UInt8(ascii: "["): return try parseArray(depth: depth)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"):
                try expect("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try expect("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try expect("null")
                return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .number(try parseNumber())
            default:
                throw error(byte >= 0x80 ? "non-ASCII byte outside a string" : "unexpected character")
            }
        }

        mutating func parseObject(depth: Int) throws(SyntaxError) -> JSONValue {
            position += 1
            var members: [(key: String, value: JSONValue)] = []
            // Keys seen so far, filled only once the object outgrows `linearScanLimit` members.
            var seenKeys: Set<String> = []
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                position += 1
                return .object(members)
            }
            // Room for a spawn's members up front (as for arrays).
            members.reserveCapacity(4)
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw error("expected a member name") }
                let keyOffset = position
                let key = try parseString()
                if isDuplicate(key, among: members, seen: &seenKeys) {
                    throw SyntaxError(offset: keyOffset, reason: "duplicate member \"\(key)\"")
                }
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
                position += 1
                skipWhitespace()
                members.append((key: key, value: try parseValue(depth: depth + 1)))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "}"):
                    position += 1
                    return .object(members)
                default: throw error("expected ',' or '}'")
                }
            }
        }

        /// Up to `linearScanLimit` members a scan of the keys is cheapest (a spawn body has 4);
        /// beyond that a hash set keeps the check linear in the body, where a scan per key made
        /// a 16 KiB object of ~2,200 short keys cost milliseconds. Swift seeds String hashing
        /// per process, so a client cannot precompute colliding keys. Both paths compare keys
        /// with String equality (canonical equivalence), so they agree on what a duplicate is.
        func isDuplicate(
            _ key: String, among members: [(key: String, value: JSONValue)], seen: inout Set<String>
        ) -> Bool {
            if members.count < JSONParser.linearScanLimit {
                return members.contains { $0.key == key }
            }
            if seen.isEmpty {
                seen.reserveCapacity(members.count * 2)
                for member in members { seen.insert(member.key) }
            }
            return !seen.insert(key).inserted
        }

        mutating func parseArray(depth: Int) throws(SyntaxError) -> JSONValue {
            position += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                position += 1
                return .array(elements)
            }
            // Room for a spawn's coordinates up front: growing 1 → 2 → 4 cost three allocations.
            elements.reserveCapacity(4)
            while true {
                skipWhitespace()
                elements.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "]"):
                    position += 1
                    return .array(elements)
                default: throw error("expected ',' or ']'")
                }
            }
        }

        mutating func parseNumber() throws(SyntaxError) -> JSONNumber {
            let start = position
            var isInteger = true
            if current == UInt8(ascii: "-") { position += 1 }
            guard let first = current, isDigit(first) else { throw error("invalid number") }
            position += 1
            if first != UInt8(ascii: "0") {
                while let byte = current, isDigit(byte) { position += 1 }
            }
            if current == UInt8(ascii: ".") {
                isInteger = false
                position += 1
                guard let byte = current, isDigit(byte) else { throw error("invalid number") }
                while let byte = current, isDigit(byte) { position += 1 }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                isInteger = false
                position += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
                guard let byte = current, isDigit(byte) else { throw error("invalid number") }
                while let byte = current, isDigit(byte) { position += 1 }
            }
            let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            return JSONNumber(literal: literal, isIntegerLiteral: isInteger)
        }

        mutating func parseString() throws(SyntaxError) -> String {
            position += 1
            let start = position
            // Fast path: no escapes. The bytes are validated as UTF-8 when made into a String.
            var isASCII = true
            while let byte = current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
                guard byte >= 0x20 else { throw error("control character in a string") }
                isASCII = isASCII && byte < 0x80
                position += 1
            }
            guard let stop = current else { throw error("unterminated string") }
            if stop == UInt8(ascii: "\"") {
                // No escapes: validate and copy straight from the request bytes.
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<position])
                position += 1
                // ASCII is valid UTF-8 as it stands, and `decoding` then copies without a check;
                // `validating` is generic in the standard library and, unspecialized, cost ~900
                // instructions a string (its type metadata), for every key and value.
                if isASCII { return String(decoding: raw, as: UTF8.self) }
                guard let text = String(validating: raw, as: UTF8.self) else {
                    throw SyntaxError(offset: start, reason: "string is not valid UTF-8")
                }
                return text
            }
            var scratch = Array(UnsafeBufferPointer(rebasing: bytes[start..<position]))
            try parseEscapedRemainder(into: &scratch)
            position += 1
            guard let text = String(validating: scratch, as: UTF8.self) else {
                throw SyntaxError(offset: start, reason: "string is not valid UTF-8")
            }
            return text
        }

        mutating func parseEscapedRemainder(into scratch: inout [UInt8]) throws(SyntaxError) {
            while let byte = current, byte != UInt8(ascii: "\"") {
                guard byte >= 0x20 else { throw error("control character in a string") }
                guard byte == UInt8(ascii: "\\") else {
                    scratch.append(byte)
                    position += 1
                    continue
                }
                position += 1
                guard let escape = current else { throw error("unterminated string") }
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(escape)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"): try appendUnicodeEscape(into: &scratch)
                default: throw error("invalid escape")
                }
            }
            guard current != nil else { throw error("unterminated string") }
        }

        mutating func appendUnicodeEscape(into scratch: inout [UInt8]) throws(SyntaxError) {
            var scalar = try hex4()
            if (0xD800...0xDBFF).contains(scalar) {
                guard current == UInt8(ascii: "\\") else { throw error("lone surrogate") }
                position += 1
                guard current == UInt8(ascii: "u") else { throw error("lone surrogate") }
                position += 1
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw error("lone surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw error("lone surrogate")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid code point") }
            scratch.append(contentsOf: UTF8.encode(unicode)!)
        }

        mutating func hex4() throws(SyntaxError) -> UInt32 {
            guard position + 4 <= bytes.count else { throw error("unterminated escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[position]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw error("invalid \\u escape")
                }
                value = value << 4 | UInt32(digit)
                position += 1
            }
            return value
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    }
}
