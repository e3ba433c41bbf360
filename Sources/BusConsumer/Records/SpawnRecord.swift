import BusChests
import BusDomain
import BusJSON

/// A spawn entry read back from its stream, checked before it is materialized.
struct SpawnRecord: Sendable, Equatable {
    var biome: BiomeID
    var chestID: String
    var type: String
    var coordinates: [Double]
    /// The entry id, stored as the chest's `stream_id`.
    var streamID: String
    /// The gateway's receive time (Unix ms).
    var receivedAtMs: Int64

    /// Parses the fields the gateway wrote; the error says which field is wrong.
    init(biome: BiomeID, streamID: String, fields: [String: String]) throws(SpawnRecordError) {
        guard let type = fields[SpawnEvent.Field.type], Identifiers.isValidType(type) else {
            throw SpawnRecordError("bad or missing type")
        }
        guard let chestID = fields[SpawnEvent.Field.chestID], Identifiers.isValidChestID(chestID) else {
            throw SpawnRecordError("bad or missing chest_id")
        }
        guard let coordsText = fields[SpawnEvent.Field.coordinates],
            case .array(let elements)? = try? JSONParser.parse(Array(coordsText.utf8)),
            (2...3).contains(elements.count)
        else { throw SpawnRecordError("coords is not a JSON array of 2 or 3 numbers") }
        var coordinates: [Double] = []
        for element in elements {
            guard case .number(let number) = element, number.double.isFinite else {
                throw SpawnRecordError("coords holds a value that is not a finite number")
            }
            coordinates.append(number.double)
        }
        guard let tsText = fields[SpawnEvent.Field.receivedAt], let ts = Int64(tsText), ts >= 0 else {
            throw SpawnRecordError("bad or missing ts")
        }
        self.biome = biome
        self.chestID = chestID
        self.type = type
        self.coordinates = coordinates
        self.streamID = streamID
        self.receivedAtMs = ts
    }

    /// The chest this spawn materializes as.
    var newChest: NewChest {
        NewChest(
            biome: biome, chestID: chestID, type: type, coordinates: coordinates, streamID: streamID,
            receivedAtMs: receivedAtMs)
    }
}

struct SpawnRecordError: Error, Sendable, Equatable, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
