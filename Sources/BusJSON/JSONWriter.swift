/// Builds compact JSON as UTF-8 bytes (one buffer, no intermediate strings).
package struct JSONWriter: Sendable {
    /// The JSON written so far.
    package private(set) var bytes: [UInt8] = []
    /// The JSON written so far, as a String.
    package var text: String { String(decoding: bytes, as: UTF8.self) }
    /// Bit `depth` says whether the current container already has a member; a bit set rather
    /// than an array so that writing a response allocates nothing but the text (depth ≤ 63).
    private var hasMembers: UInt64 = 0
    private var depth = 0

    package init() {
        bytes.reserveCapacity(128)
    }

    /// A writer whose buffer holds `capacity` bytes before it grows: a caller that knows its
    /// output's usual size spares the copies of growing.
    package init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    package mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        open()
    }

    package mutating func endObject() {
        close()
        bytes.append(UInt8(ascii: "}"))
    }

    package mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        open()
    }

    package mutating func endArray() {
        close()
        bytes.append(UInt8(ascii: "]"))
    }

    /// Writes `"key":`; the value written next belongs to it.
    package mutating func key(_ key: String) {
        separate()
        Self.appendQuoted(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        hasMembers &= ~(1 << UInt64(depth))
    }

    /// `key(_:)` for a name fixed in the source, which needs no escaping (letters, digits, `_`):
    /// copied without the scan a String key gets (~400 instructions a member, bench/instructions).
    package mutating func key(literal key: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { name in
            assert(!name.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
            bytes.append(contentsOf: name)
        }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        hasMembers &= ~(1 << UInt64(depth))
    }

    package mutating func string(_ value: String) {
        separate()
        Self.appendQuoted(value, to: &bytes)
    }

    // Concrete overloads, not `some BinaryInteger`: generic `package` functions are not
    // specialized across modules by Swift 6.3 (each call looked up type metadata at run time).
    package mutating func integer(_ value: Int64) {
        separate()
        Self.appendDecimal(value, to: &bytes)
    }

    package mutating func integer(_ value: Int) { integer(Int64(value)) }

    /// Writes a finite number as compactly as it round-trips (`2.0` as `2`).
    package mutating func number(_ value: Double) {
        separate()
        bytes.append(contentsOf: Self.compactNumber(value).utf8)
    }

    /// Writes a parsed number exactly as `number(number.double)` would, from its literal when
    /// that is already the compact form bar trailing zeros (`2.50` → `2.5`, `2.0` → `2`), which
    /// spares the spawn path a `strtod` and a shortest-digits formatting per coordinate.
    package mutating func number(_ number: JSONNumber) {
        separate()
        if !Self.appendCompactLiteral(number.literal, to: &bytes) {
            bytes.append(contentsOf: Self.compactNumber(number.double).utf8)
        }
    }

    package mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    package mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
    }

    /// Inserts already-serialized JSON as the next value.
    package mutating func raw(_ json: String) {
        separate()
        // One copy of the contiguous bytes; appending the UTF8View went byte by byte.
        var json = json
        json.withUTF8 { bytes.append(contentsOf: $0) }
    }

    package mutating func field(_ name: String, _ value: String) {
        key(name)
        string(value)
    }

    package mutating func field(_ name: String, _ value: Int64) {
        key(name)
        integer(value)
    }

    package mutating func field(_ name: String, _ value: Int) { field(name, Int64(value)) }

    /// `field(_:_:)` with a name fixed in the source (see `key(literal:)`).
    package mutating func field(literal name: StaticString, _ value: String) {
        key(literal: name)
        string(value)
    }

    /// `field(_:_:)` with a name fixed in the source (see `key(literal:)`).
    package mutating func field(literal name: StaticString, _ value: Int64) {
        key(literal: name)
        integer(value)
    }

    private mutating func separate() {
        let bit: UInt64 = 1 << UInt64(depth)
        if hasMembers & bit != 0 { bytes.append(UInt8(ascii: ",")) }
        hasMembers |= bit
    }

    private mutating func open() {
        precondition(depth < 63, "JSONWriter nests at most 63 levels")
        depth += 1
        hasMembers &= ~(1 << UInt64(depth))
    }

    private mutating func close() {
        depth -= 1
    }

    /// `2.0` → `2`, `1.5` → `1.5`, `1e21` → `1e+21`: integers without a fraction, others in
    /// Swift's shortest round-trip form, which is valid JSON for finite values.
    package static func compactNumber(_ value: Double) -> String {
        if value.rounded() == value, abs(value) < 9_007_199_254_740_992 {
            return String(Int64(value))
        }
        return value.description
    }

    /// Appends `literal` in `compactNumber`'s form when that needs no conversion, or appends
    /// nothing and returns false (see `compactRange(ofLiteral:)`).
    static func appendCompactLiteral(_ literal: String, to bytes: inout [UInt8]) -> Bool {
        var literal = literal
        return literal.withUTF8 { text in
            guard let range = compactRange(ofLiteral: text) else { return false }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[range]))
            return true
        }
    }

    /// The part of a JSON number literal that is already `compactNumber`'s form of its value, or
    /// nil when writing it needs a conversion. That holds for a plain decimal (no exponent) of at
    /// most 15 significant digits: the nearest Double's shortest round-trip digits are then the
    /// literal's own without trailing zeros (no other decimal of ≤ 15 digits is nearer), and
    /// Swift prints such a value without an exponent from 0.0001 up (an integer below 2^53 as an
    /// integer). The part is the literal without its trailing fraction zeros (`2.50` → `2.5`,
    /// `2.0` → `2`), and without the sign of a zero (`-0.0` → `0`).
    package static func compactRange(ofLiteral text: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        var index = 0
        let negative = index < text.count && text[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        let integerStart = index
        while index < text.count, text[index] &- UInt8(ascii: "0") < 10 { index += 1 }
        let integerEnd = index
        // JSON has no leading zeros, but this must not write `01` for any caller.
        guard integerEnd > integerStart, text[integerStart] != UInt8(ascii: "0") || integerEnd == integerStart + 1
        else { return nil }
        var fractionEnd = integerEnd
        if index < text.count {
            guard text[index] == UInt8(ascii: "."), index + 1 < text.count else { return nil }
            index += 1
            while index < text.count, text[index] &- UInt8(ascii: "0") < 10 { index += 1 }
            guard index == text.count else { return nil }  // an exponent
            fractionEnd = index
            while fractionEnd > integerEnd + 1, text[fractionEnd - 1] == UInt8(ascii: "0") { fractionEnd -= 1 }
            if fractionEnd == integerEnd + 1 { fractionEnd = integerEnd }  // all zeros: an integer
        }
        let integerIsZero = integerEnd - integerStart == 1 && text[integerStart] == UInt8(ascii: "0")
        var significant = integerIsZero ? 0 : integerEnd - integerStart
        if fractionEnd > integerEnd {
            var firstFraction = integerEnd + 1
            if integerIsZero {
                // 0.0001 prints as such, 0.00001 as 1e-05.
                while text[firstFraction] == UInt8(ascii: "0") { firstFraction += 1 }
                guard firstFraction - (integerEnd + 1) <= 3 else { return nil }
            }
            significant += fractionEnd - firstFraction
        }
        guard significant <= 15 else { return nil }
        if integerIsZero && fractionEnd == integerEnd {
            return integerStart..<integerEnd  // -0 and -0.0 are written as 0
        }
        return (negative ? 0 : integerStart)..<fractionEnd
    }

    /// For a caller writing a fixed shape of JSON itself (the writer's own encoding).
    package static func appendDecimal(_ value: Int64, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 20 digits, reversed
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for index in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[index]) }
        }
    }

    /// For a caller writing a fixed shape of JSON itself (the writer's own encoding).
    package static func appendQuoted(_ value: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        // Over the string's contiguous bytes: the common case (nothing to escape) is one plain
        // loop and one copy. Scanning the UTF8View through a closure cost ~4k instructions a spawn.
        var value = value
        let copied = value.withUTF8 { utf8 -> Bool in
            for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                return false
            }
            bytes.append(contentsOf: utf8)
            return true
        }
        if copied {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): bytes.append(contentsOf: "\\\\".utf8)
            case 0x0A: bytes.append(contentsOf: "\\n".utf8)
            case 0x0D: bytes.append(contentsOf: "\\r".utf8)
            case 0x09: bytes.append(contentsOf: "\\t".utf8)
            case ..<0x20:
                let hex = String(byte, radix: 16)
                bytes.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
