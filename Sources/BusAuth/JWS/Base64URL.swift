import Foundation

/// Base64url without padding (RFC 7515 §2, RFC 4648 §5): the encoding of every JWS part
/// and JWK member. Decoding is strict: padding, whitespace or any other character is refused,
/// so that one token has exactly one spelling.
public enum Base64URL {
    /// The unpadded base64url text of `bytes`.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.last == "=" { text.removeLast() }
        return String(
            text.map { character -> Character in
                switch character {
                case "+": "-"
                case "/": "_"
                default: character
                }
            })
    }

    /// The bytes of unpadded base64url `text`, or nil if it is not exactly that.
    public static func decode(_ text: Substring) -> [UInt8]? {
        // A remainder of 1 character can never come from whole bytes.
        guard text.utf8.count % 4 != 1 else { return nil }
        var standard = [UInt8]()
        standard.reserveCapacity(text.utf8.count + 3)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                standard.append(byte)
            case UInt8(ascii: "-"): standard.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): standard.append(UInt8(ascii: "/"))
            default: return nil
            }
        }
        while standard.count % 4 != 0 { standard.append(UInt8(ascii: "=")) }
        guard let data = Data(base64Encoded: Data(standard)) else { return nil }
        let bytes = [UInt8](data)
        // Non-canonical trailing bits (e.g. "AB" and "AC" both decoding to one byte) would let
        // a tampered signature part decode to the same bytes; only the canonical text passes.
        guard encode(bytes) == text else { return nil }
        return bytes
    }

    /// The bytes of unpadded base64url `text`, or nil if it is not exactly that.
    public static func decode(_ text: String) -> [UInt8]? { decode(text[...]) }
}
