import BusDomain

/// A chest as stored: one row of `treasure_chests`, read back by `ChestStatements.chests(in:)`.
/// Its JSON and ETag are the activation API's business (`BusActivation`).
package struct Chest: Sendable, Equatable {
    package enum State: String, Sendable, Equatable {
        case spawned, activated
    }

    package var biome: BiomeID
    package var chestID: String
    package var type: String
    /// Compact JSON array text, e.g. `[1.5,2,3.25]`, as stored.
    package var coordinatesJSON: String
    package var state: State
    package var version: Int64
    package var activatedBy: String?

    package init(
        biome: BiomeID, chestID: String, type: String, coordinatesJSON: String, state: State, version: Int64,
        activatedBy: String?
    ) {
        self.biome = biome
        self.chestID = chestID
        self.type = type
        self.coordinatesJSON = coordinatesJSON
        self.state = state
        self.version = version
        self.activatedBy = activatedBy
    }
}
