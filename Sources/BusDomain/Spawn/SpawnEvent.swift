import BusJSON

/// A validated spawn posted by a game server.
package struct SpawnEvent: Sendable, Equatable {
    package var biome: BiomeID
    /// Matches `[a-z0-9_-]{1,32}`.
    package var type: String
    /// Two or three finite numbers, as compact JSON array text: `[1.5,2,3.25]`. Kept as text
    /// because text is what the stream entry and the idempotency fingerprint carry.
    package private(set) var coordinatesText: String
    /// Matches `[A-Za-z0-9_.:-]{1,64}`; nil when the gateway should generate one.
    package var chestID: String?

    package init(biome: BiomeID, type: String, coordinates: [Double], chestID: String?) {
        self.init(biome: biome, type: type, coordinatesText: Self.text(of: coordinates), chestID: chestID)
    }

    /// An event whose coordinates are already compact JSON array text (the decoder writes them
    /// with `JSONWriter`, from the request's number literals).
    package init(biome: BiomeID, type: String, coordinatesText: String, chestID: String?) {
        self.biome = biome
        self.type = type
        self.coordinatesText = coordinatesText
        self.chestID = chestID
    }

    /// The coordinates as numbers.
    package var coordinates: [Double] {
        get {
            guard case .array(let elements) = try? JSONParser.parse(Array(coordinatesText.utf8)) else { return [] }
            return elements.compactMap { if case .number(let number) = $0 { number.double } else { nil } }
        }
        set { coordinatesText = Self.text(of: newValue) }
    }

    private static func text(of coordinates: [Double]) -> String {
        var writer = JSONWriter()
        writer.beginArray()
        for value in coordinates { writer.number(value) }
        writer.endArray()
        return writer.text
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

}
