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

    package var description: String { (isWeak ? "W/" : "") + "\"\(opaque)\"" }

    /// Strong comparison: both strong and equal. A weak tag never matches.
    package func strongMatches(_ other: EntityTag) -> Bool {
        !isWeak && !other.isWeak && opaque == other.opaque
    }

    /// The version a strong tag names, if it is a decimal version number.
    package var version: Int64? {
        guard !isWeak, let value = Int64(opaque), value >= 0, String(value) == opaque else { return nil }
        return value
    }
}

/// A parsed `If-Match` header: `*` or a list of entity tags.
package enum IfMatch: Sendable, Equatable {
    case any
    case tags([EntityTag])

    /// Parses the field values (a header may be repeated); nil when malformed.
    package init?(headerValues: [String]) {
        guard !headerValues.isEmpty else { return nil }
        let joined = headerValues.joined(separator: ",")
        if joined.filter({ $0 != " " && $0 != "\t" }) == "*" {
            self = .any
            return
        }
        guard let tags = Self.parseList(joined), !tags.isEmpty else { return nil }
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
