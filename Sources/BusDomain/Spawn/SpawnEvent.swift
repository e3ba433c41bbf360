import BusJSON

/// A validated spawn posted by a game server.
public struct SpawnEvent: Sendable, Equatable {
    public var biome: BiomeID
    /// Matches `[a-z0-9_-]{1,32}`.
    public var type: String
    /// Two or three finite numbers.
    public var coordinates: [Double]
    /// Matches `[A-Za-z0-9_.:-]{1,64}`; nil when the gateway should generate one.
    public var chestID: String?

    public init(biome: BiomeID, type: String, coordinates: [Double], chestID: String?) {
        self.biome = biome
        self.type = type
        self.coordinates = coordinates
        self.chestID = chestID
    }

    /// The names of a spawn's fields in its stream entry: written by the gateway's XADD, read back
    /// by the consumer, so one spelling serves both sides.
    public enum Field {
        public static let type = "type"
        /// The coordinates as compact JSON array text (`coordinatesText`).
        public static let coordinates = "coords"
        public static let chestID = "chest_id"
        /// The gateway's receive time, Unix milliseconds in decimal.
        public static let receivedAt = "ts"
        /// The spawn client that posted it, when the gateway runs with auth.
        public static let source = "source"
    }

    /// The coordinates as compact JSON array text: `[1.5,2,3.25]`.
    public var coordinatesText: String {
        var writer = JSONWriter()
        writer.beginArray()
        for value in coordinates { writer.number(value) }
        writer.endArray()
        return writer.text
    }
}
