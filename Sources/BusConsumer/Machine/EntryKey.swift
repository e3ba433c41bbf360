import BusDomain

/// One stream entry as a consumer tracks it: its biome's stream and its entry id.
package struct EntryKey: Sendable, Hashable, CustomStringConvertible {
    package let biome: BiomeID
    package let id: String

    package init(biome: BiomeID, id: String) {
        self.biome = biome
        self.id = id
    }

    package var description: String { "\(StreamKey.events(biome))/\(id)" }
}
