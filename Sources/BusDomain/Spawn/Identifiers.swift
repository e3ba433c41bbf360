/// The identifier rules the contract sets.
package enum Identifiers {
    /// `[a-z0-9_-]{1,32}`: a spawn's type.
    package static func isValidType(_ text: String) -> Bool {
        matches(text, maxLength: 32) { byte in
            (byte >= 0x61 && byte <= 0x7A) || isDigit(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
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

    static func isIDByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || isDigit(byte)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
            || byte == UInt8(ascii: "-")
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func matches(_ text: String, maxLength: Int, _ allowed: (UInt8) -> Bool) -> Bool {
        let utf8 = text.utf8
        return !utf8.isEmpty && utf8.count <= maxLength && utf8.allSatisfy(allowed)
    }
}
