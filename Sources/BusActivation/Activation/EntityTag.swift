import BusDomain

/// An HTTP entity tag (RFC 9110 §8.8.3): `"opaque"` or weak `W/"opaque"`.
package struct EntityTag: Sendable, Equatable, CustomStringConvertible {
    package let opaque: String
    package let isWeak: Bool

    package init(_ opaque: String, weak: Bool = false) {
        self.opaque = opaque
        self.isWeak = weak
    }

    /// The strong tag of a chest version: `"7"`.
    package init(version: Int64) {
        self.init(String(version))
    }

    package var description: String {
        // Appended, not interpolated: every 200 and 409/412 carries one.
        var text = isWeak ? "W/\"" : "\""
        text += opaque
        text += "\""
        return text
    }

    /// Strong comparison: both strong and equal. A weak tag never matches.
    package func strongMatches(_ other: EntityTag) -> Bool {
        !isWeak && !other.isWeak && opaque == other.opaque
    }

    /// The version a strong tag names, if it is a decimal version number written the way
    /// `String(version)` writes it (no sign, no leading zero). Read over the bytes: each
    /// activation asks, and parsing then printing the number back allocated.
    package var version: Int64? {
        guard !isWeak else { return nil }
        let digits = opaque.utf8[...]
        guard digits.first != UInt8(ascii: "0") || digits.count == 1 else { return nil }
        return Identifiers.decimalValue(of: digits)
    }
}

/// A parsed `If-Match` header: `*` or a list of entity tags.
package enum IfMatch: Sendable, Equatable {
    case any
    case tags([EntityTag])

    /// Parses the field values (a header may be repeated); nil when malformed.
    package init?(headerValues: [String]) {
        guard !headerValues.isEmpty else { return nil }
        var joined = headerValues.count == 1 ? headerValues[0] : headerValues.joined(separator: ",")
        let tags: [EntityTag]?
        // Over the contiguous bytes: iterating the UTF8View cost ~30 instructions a byte.
        if joined.withUTF8({ !$0.contains { $0 >= 0x80 } }) {
            // ASCII, as every real If-Match is: bytes and characters are the same here.
            var isAny = false
            tags = Self.parseASCIIList(joined, isAny: &isAny)
            if isAny {
                self = .any
                return
            }
        } else {
            if joined.filter({ $0 != " " && $0 != "\t" }) == "*" {
                self = .any
                return
            }
            tags = Self.parseList(joined)
        }
        guard let tags, !tags.isEmpty else { return nil }
        self = .tags(tags)
    }

    /// True when a representation with strong tag `current` satisfies the condition.
    package func matches(_ current: EntityTag) -> Bool {
        switch self {
        case .any: true
        case .tags(let tags): tags.contains { $0.strongMatches(current) }
        }
    }

    /// The versions named by strong, numeric tags (weak and non-numeric tags can never match).
    package var candidateVersions: [Int64] {
        guard case .tags(let tags) = self else { return [] }
        return tags.compactMap(\.version)
    }

    /// `parseList` over an ASCII value's bytes, Character operations cost ~5k instructions
    /// per activation. Sets `isAny` (and returns nil) when the value is `*` with optional
    /// whitespace.
    private static func parseASCIIList(_ text: String, isAny: inout Bool) -> [EntityTag]? {
        let bytes = Array(text.utf8)
        let space = UInt8(ascii: " ")
        let tab = UInt8(ascii: "\t")
        let comma = UInt8(ascii: ",")
        let quote = UInt8(ascii: "\"")
        if bytes.lazy.filter({ $0 != space && $0 != tab }).elementsEqual(CollectionOfOne(UInt8(ascii: "*"))) {
            isAny = true
            return nil
        }
        var tags: [EntityTag] = []
        var index = 0
        while true {
            while index < bytes.count, bytes[index] == space || bytes[index] == tab || bytes[index] == comma {
                index += 1
            }
            if index == bytes.count { return tags }
            var weak = false
            if bytes.count - index >= 2, bytes[index] == UInt8(ascii: "W"), bytes[index + 1] == UInt8(ascii: "/") {
                weak = true
                index += 2
            }
            guard index < bytes.count, bytes[index] == quote else { return nil }
            index += 1
            let start = index
            // etagc = %x21 / %x23-7E (obs-text is not ASCII): no spaces, quotes or controls.
            while index < bytes.count, bytes[index] != quote {
                guard bytes[index] == 0x21 || (0x23...0x7E).contains(bytes[index]) else { return nil }
                index += 1
            }
            guard index < bytes.count else { return nil }
            tags.append(EntityTag(String(decoding: bytes[start..<index], as: UTF8.self), weak: weak))
            index += 1
            while index < bytes.count, bytes[index] == space || bytes[index] == tab { index += 1 }
            guard index == bytes.count || bytes[index] == comma else { return nil }
        }
    }

    /// `#entity-tag` with optional whitespace and empty elements (RFC 9110 §5.6.1).
    private static func parseList(_ text: String) -> [EntityTag]? {
        var tags: [EntityTag] = []
        var rest = Substring(text)
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "," }
            if rest.isEmpty { return tags }
            var weak = false
            if rest.hasPrefix("W/") {
                weak = true
                rest = rest.dropFirst(2)
            }
            guard rest.first == "\"" else { return nil }
            rest = rest.dropFirst()
            guard let close = rest.firstIndex(of: "\"") else { return nil }
            let opaque = rest[..<close]
            // etagc = %x21 / %x23-7E / obs-text: no spaces, quotes or controls.
            guard
                opaque.unicodeScalars.allSatisfy({
                    $0.value == 0x21 || (0x23...0x7E).contains($0.value) || $0.value >= 0x80
                })
            else { return nil }
            tags.append(EntityTag(String(opaque), weak: weak))
            rest = rest[rest.index(after: close)...].drop { $0 == " " || $0 == "\t" }
            guard rest.isEmpty || rest.first == "," else { return nil }
        }
    }
}
