/// A biome's id: an integer 0 ... 2147483647.
public struct BiomeID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let range: ClosedRange<Int64> = 0...2_147_483_647

    public let value: Int32

    /// nil when `value` is outside `BiomeID.range`.
    public init?(_ value: Int64) {
        guard Self.range.contains(value) else { return nil }
        self.value = Int32(value)
    }

    public init?(_ text: some StringProtocol) {
        guard text.allSatisfy(\.isASCII), text.first != "+", let value = Int64(text) else { return nil }
        self.init(value)
    }

    public var description: String { String(value) }

    public static func < (lhs: BiomeID, rhs: BiomeID) -> Bool { lhs.value < rhs.value }
}

/// The Redis keys that belong to a biome.
public enum StreamKey {
    /// The biome's event stream, `EVSTREAM:<id>` with the id in decimal.
    public static func events(_ biome: BiomeID) -> String { "EVSTREAM:\(biome.value)" }

    /// The biome's dead-letter stream, `EVDLQ:<id>`.
    public static func deadLetters(_ biome: BiomeID) -> String { "EVDLQ:\(biome.value)" }
}
