/// Builds compact JSON text.
public struct JSONWriter: Sendable {
    public private(set) var text = ""
    /// Bit `depth` says whether the current container already has a member; a bit set rather
    /// than an array so that writing a response allocates nothing but the text (depth ≤ 63).
    private var hasMembers: UInt64 = 0
    private var depth = 0

    public init() {
        text.reserveCapacity(128)
    }

    public mutating func beginObject() {
        separate()
        text.append("{")
        open()
    }

    public mutating func endObject() {
        close()
        text.append("}")
    }

    public mutating func beginArray() {
        separate()
        text.append("[")
        open()
    }

    public mutating func endArray() {
        close()
        text.append("]")
    }

    /// Writes `"key":`; the value written next belongs to it.
    public mutating func key(_ key: String) {
        separate()
        Self.appendQuoted(key, to: &text)
        text.append(":")
        hasMembers &= ~(1 << UInt64(depth))
    }

    public mutating func string(_ value: String) {
        separate()
        Self.appendQuoted(value, to: &text)
    }

    public mutating func integer(_ value: some BinaryInteger) {
        separate()
        text.append(String(value))
    }

    /// Writes a finite number as compactly as it round-trips (`2.0` as `2`).
    public mutating func number(_ value: Double) {
        separate()
        text.append(Self.compactNumber(value))
    }

    public mutating func bool(_ value: Bool) {
        separate()
        text.append(value ? "true" : "false")
    }

    public mutating func null() {
        separate()
        text.append("null")
    }

    /// Inserts already-serialized JSON as the next value.
    public mutating func raw(_ json: String) {
        separate()
        text.append(json)
    }

    public mutating func field(_ name: String, _ value: String) {
        key(name)
        string(value)
    }

    public mutating func field(_ name: String, _ value: some BinaryInteger) {
        key(name)
        integer(value)
    }

    private mutating func separate() {
        let bit: UInt64 = 1 << UInt64(depth)
        if hasMembers & bit != 0 { text.append(",") }
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
    public static func compactNumber(_ value: Double) -> String {
        if value.rounded() == value, abs(value) < 9_007_199_254_740_992 {
            return String(Int64(value))
        }
        return value.description
    }

    static func appendQuoted(_ value: String, to text: inout String) {
        text.append("\"")
        let needsEscaping = value.utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
        guard needsEscaping else {
            text.append(value)
            text.append("\"")
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text.append("\\\"")
            case "\\": text.append("\\\\")
            case "\n": text.append("\\n")
            case "\r": text.append("\\r")
            case "\t": text.append("\\t")
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: text.unicodeScalars.append(scalar)
            }
        }
        text.append("\"")
    }
}
