/// A biome's id: an integer 0 ... 2147483647.
package struct BiomeID: Sendable, Hashable, Comparable, CustomStringConvertible {
    package static let range: ClosedRange<Int64> = 0...2_147_483_647

    package let value: Int32

    /// nil when `value` is outside `BiomeID.range`.
    package init?(_ value: Int64) {
        guard Self.range.contains(value) else { return nil }
        self.value = Int32(value)
    }

    /// Decimal digits, with an optional `-` (so `-0` is 0, and `-5` out of range), as
    /// `Int64(_:)` reads them but without its `+`. Read over the UTF-8 bytes: the route's
    /// `{biome_id}` and every result row go through here, and the Character walk of
    /// `allSatisfy(\.isASCII)` plus `Int64(String)` cost ~1.4k instructions a call.
    package init?(_ text: String) {
        var utf8 = text.utf8[...]
        let negative = utf8.first == UInt8(ascii: "-")
        if negative { utf8 = utf8.dropFirst() }
        // Past Int64.max is past the range too (and -Int64.max is below it).
        guard let magnitude = Identifiers.decimalValue(of: utf8) else { return nil }
        self.init(negative ? -magnitude : magnitude)
    }

    package var description: String { String(value) }

    package static func < (lhs: BiomeID, rhs: BiomeID) -> Bool { lhs.value < rhs.value }
}

/// The Redis keys that belong to a biome.
package enum StreamKey {
    /// The biome's event stream, `EVSTREAM:<id>` with the id in decimal.
    package static func events(_ biome: BiomeID) -> String { "EVSTREAM:\(biome.value)" }

    /// The biome's dead-letter stream, `EVDLQ:<id>`.
    package static func deadLetters(_ biome: BiomeID) -> String { "EVDLQ:\(biome.value)" }
}
