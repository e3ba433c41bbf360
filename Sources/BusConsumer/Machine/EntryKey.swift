import BusDomain

/// One stream entry as a consumer tracks it: its biome's stream and its entry id.
public struct EntryKey: Sendable, Hashable, CustomStringConvertible {
    public let biome: BiomeID
    public let id: String

    public init(biome: BiomeID, id: String) {
        self.biome = biome
        self.id = id
    }

    public var description: String { "\(StreamKey.events(biome))/\(id)" }
}
