/// A chest as the activation API shows it.
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

    /// The strong ETag of this version: `"<version>"`.
    public var entityTag: EntityTag { EntityTag(version: version) }

    /// The contract's JSON representation.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("biome_id", biome.value)
        writer.field("chest_id", chestID)
        writer.field("type", type)
        writer.key("coords")
        writer.raw(coordinatesJSON)
        writer.field("state", state.rawValue)
        writer.field("version", version)
        writer.key("activated_by")
        if let activatedBy { writer.string(activatedBy) } else { writer.null() }
        writer.endObject()
    }

    public var json: String { String(decoding: jsonBytes, as: UTF8.self) }

    /// The representation as UTF-8 bytes, ready for a response body.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter()
        write(to: &writer)
        return writer.bytes
    }
}
