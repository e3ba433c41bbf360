import BusDomain
import BusJSON

/// A chest about to be inserted from a spawn entry: what `ChestStatements.insertOne` and
/// `insertBatch` write (state `spawned`, version 1).
public struct NewChest: Sendable, Equatable {
    public var biome: BiomeID
    public var chestID: String
    public var type: String
    public var coordinates: [Double]
    /// The stream entry id, stored as `stream_id`.
    public var streamID: String
    /// The gateway's receive time (Unix ms), stored as `spawned_at`.
    public var receivedAtMs: Int64

    public init(
        biome: BiomeID, chestID: String, type: String, coordinates: [Double], streamID: String, receivedAtMs: Int64
    ) {
        self.biome = biome
        self.chestID = chestID
        self.type = type
        self.coordinates = coordinates
        self.streamID = streamID
        self.receivedAtMs = receivedAtMs
    }

    /// The coordinates as a Postgres array literal: `{1.5,2,3.25}`.
    public var coordinatesArrayLiteral: String {
        "{" + coordinates.map(JSONWriter.compactNumber).joined(separator: ",") + "}"
    }
}
