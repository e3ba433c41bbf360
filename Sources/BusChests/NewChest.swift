import BusDomain
import BusJSON

/// A chest about to be inserted from a spawn entry: what `ChestStatements.insertOne` and
/// `insertBatch` write (state `spawned`, version 1).
package struct NewChest: Sendable, Equatable {
    package var biome: BiomeID
    package var chestID: String
    package var type: String
    package var coordinates: [Double]
    /// The stream entry id, stored as `stream_id`.
    package var streamID: String
    /// The gateway's receive time (Unix ms), stored as `spawned_at`.
    package var receivedAtMs: Int64

    package init(
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
    package var coordinatesArrayLiteral: String {
        "{" + coordinates.map(JSONWriter.compactNumber).joined(separator: ",") + "}"
    }
}
