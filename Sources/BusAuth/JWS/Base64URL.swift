/// Base64url without padding (RFC 7515 §2, RFC 4648 §5): the encoding of every JWS part
/// and JWK member. Decoding is strict: padding, whitespace, any other character or non-zero
/// trailing bits are refused, so that one value has exactly one spelling (a tampered
/// signature part can never decode to the same bytes). Written out rather than through
/// Foundation's Data, which costs several microseconds per token in allocations.
package enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// 6-bit values by ASCII byte; 0xFF: not in the alphabet.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// The unpadded base64url text of `bytes`.
    package static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let input = Array(bytes)
        var output = [UInt8]()
        output.reserveCapacity((input.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= input.count {
            let group = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
            append(group, digits: 4, to: &output)
            index += 3
        }
        switch input.count - index {
        case 1:
            append(UInt32(input[index]) << 16, digits: 2, to: &output)
        case 2:
            append(UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8, digits: 3, to: &output)
        default: break
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends the first `digits` 6-bit digits of the 24-bit `group`.
    private static func append(_ group: UInt32, digits: Int, to output: inout [UInt8]) {
        var shift: UInt32 = 18
        for _ in 0..<digits {
            output.append(alphabet[Int(group >> shift & 0x3F)])
            shift &-= 6
        }
    }

    /// The bytes of unpadded base64url `text`, or nil if it is not exactly that.
    package static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        // A remainder of 1 character can never come from whole bytes.
        guard text.count % 4 != 1 else { return nil }
        var output = [UInt8]()
        output.reserveCapacity(text.count * 3 / 4)
        var group: UInt32 = 0
        var filled = 0
        for byte in text {
            let value = values[Int(byte)]
            guard value != 0xFF else { return nil }
            group = group << 6 | UInt32(value)
            filled += 1
            if filled == 4 {
                output.append(UInt8(truncatingIfNeeded: group >> 16))
                output.append(UInt8(truncatingIfNeeded: group >> 8))
                output.append(UInt8(truncatingIfNeeded: group))
                group = 0
                filled = 0
            }
        }
        switch filled {
        case 2:
            // 12 bits: one byte and 4 bits that must be zero.
            guard group & 0xF == 0 else { return nil }
            output.append(UInt8(truncatingIfNeeded: group >> 4))
        case 3:
            // 18 bits: two bytes and 2 bits that must be zero.
            guard group & 0x3 == 0 else { return nil }
            output.append(UInt8(truncatingIfNeeded: group >> 10))
            output.append(UInt8(truncatingIfNeeded: group >> 2))
        default: break
        }
        return output
    }

    /// The bytes of unpadded base64url `text`, or nil if it is not exactly that.
    package static func decode(_ text: String) -> [UInt8]? { decode(text.utf8) }

    /// The bytes of unpadded base64url `text`, or nil if it is not exactly that.
    package static func decode(_ text: Substring) -> [UInt8]? { decode(text.utf8) }
}
