/// A biome's id: an integer 0 ... 2147483647.
package struct BiomeID: Sendable, Hashable, Comparable, CustomStringConvertible {
    package static let range: ClosedRange<Int64> = 0...2_147_483_647

    package let value: Int32

    /// nil when `value` is outside `BiomeID.range`.
    package init?(_ value: Int64) {
        guard Self.range.contains(value) else { return nil }
        self.value = Int32(value)
    }

    package init?(_ text: String) {
        guard text.allSatisfy(\.isASCII), text.first != "+", let value = Int64(text) else { return nil }
        self.init(value)
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
