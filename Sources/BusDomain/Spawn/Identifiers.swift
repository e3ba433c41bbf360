/// The identifier rules the contract sets.
package enum Identifiers {
    /// `[a-z0-9_-]{1,32}`: a spawn's type.
    package static func isValidType(_ text: String) -> Bool {
        matches(text, maxLength: 32, isTypeByte)
    }

    /// `[A-Za-z0-9_.:-]{1,64}`: chest ids and player ids.
    package static func isValidChestID(_ text: String) -> Bool {
        matches(text, maxLength: 64, isIDByte)
    }

    /// `[a-z0-9-]{1,63}`: region names.
    package static func isValidRegionName(_ text: String) -> Bool {
        matches(text, maxLength: 63) { byte in
            (byte >= 0x61 && byte <= 0x7A) || isDigit(byte) || byte == UInt8(ascii: "-")
        }
    }

    /// The value of a run of ASCII decimal digits: nil when it is empty, holds anything else,
    /// or passes `Int64.max`. Read over the bytes, for text parsed on every request (biome ids in
    /// paths, entity-tag versions), where `Int64(String)` and a Character walk cost ~1.4k
    /// instructions a call. Signs and leading-zero rules are the callers'.
    package static func decimalValue(of digits: Substring.UTF8View) -> Int64? {
        guard !digits.isEmpty else { return nil }
        var value: Int64 = 0
        for byte in digits {
            guard isDigit(byte) else { return nil }
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = shifted.addingReportingOverflow(Int64(byte &- UInt8(ascii: "0")))
            guard !overflow, !carry else { return nil }
            value = sum
        }
        return value
    }

    static func isTypeByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || isDigit(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    static func isIDByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || isDigit(byte)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
            || byte == UInt8(ascii: "-")
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// Over the string's contiguous bytes: walking its `UTF8View` cost ~30 instructions a byte.
    private static func matches(_ text: String, maxLength: Int, _ allowed: (UInt8) -> Bool) -> Bool {
        var text = text
        return text.withUTF8 { bytes in !bytes.isEmpty && bytes.count <= maxLength && bytes.allSatisfy(allowed) }
    }
}
