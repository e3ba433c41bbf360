import BusJSON

/// A validated spawn posted by a game server.
package struct SpawnEvent: Sendable, Equatable {
    package var biome: BiomeID
    /// Matches `[a-z0-9_-]{1,32}`.
    package var type: String
    /// Two or three finite numbers.
    package var coordinates: [Double]
    /// Matches `[A-Za-z0-9_.:-]{1,64}`; nil when the gateway should generate one.
    package var chestID: String?

    package init(biome: BiomeID, type: String, coordinates: [Double], chestID: String?) {
        self.biome = biome
        self.type = type
        self.coordinates = coordinates
        self.chestID = chestID
    }

    /// The names of a spawn's fields in its stream entry: written by the gateway's XADD, read back
    /// by the consumer, so one spelling serves both sides.
    package enum Field {
        package static let type = "type"
        /// The coordinates as compact JSON array text (`coordinatesText`).
        package static let coordinates = "coords"
        package static let chestID = "chest_id"
        /// The gateway's receive time, Unix milliseconds in decimal.
        package static let receivedAt = "ts"
        /// The spawn client that posted it, when the gateway runs with auth.
        package static let source = "source"
    }

    /// The coordinates as compact JSON array text: `[1.5,2,3.25]`.
    package var coordinatesText: String {
        var writer = JSONWriter()
        writer.beginArray()
        for value in coordinates { writer.number(value) }
        writer.endArray()
        return writer.text
    }
}
