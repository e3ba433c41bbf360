import BusDomain

/// A chest as stored: one row of `treasure_chests`, read back by `ChestStatements.chests(in:)`.
/// Its JSON and ETag are the activation API's business (`BusActivation`).
public struct Chest: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        case spawned, activated
    }

    public var biome: BiomeID
    public var chestID: String
    public var type: String
    /// Compact JSON array text, e.g. `[1.5,2,3.25]`, as stored.
    public var coordinatesJSON: String
    public var state: State
    public var version: Int64
    public var activatedBy: String?

    public init(
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
