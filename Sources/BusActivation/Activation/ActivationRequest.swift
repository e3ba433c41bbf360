import BusDomain
import BusJSON
import BusService

/// A validated activation request.
package struct ActivationRequest: Sendable, Equatable {
    package var biome: BiomeID
    package var chestID: String
    package var condition: IfMatch
    package var playerID: String?

    package init(biome: BiomeID, chestID: String, condition: IfMatch, playerID: String?) {
        self.biome = biome
        self.chestID = chestID
        self.condition = condition
        self.playerID = playerID
    }

    /// Validates the parts of `POST …/chests/{chest_id}/activate` (and the seed alias, whose
    /// chest id comes from the body). `ifMatch` holds every `If-Match` field value.
    package static func validate(
        biomeID: String, chestID: String?, ifMatch: [String], body: [UInt8], chestIDInBody: Bool = false
    ) -> Result<ActivationRequest, APIError> {
        guard let biome = BiomeID(biomeID) else {
            return .failure(
                .invalidField(
                    "biome_id", "biome_id must be an integer from 0 to 2147483647, not \"\(biomeID.prefix(40))\""))
        }
        var playerID: String?
        var chestID = chestID
        if !body.isEmpty && !body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            let document: JSONValue
            switch JSONBody.object(from: body) {
            case .success(let object): document = object
            case .failure(let error): return .failure(error)
            }
            switch document["player_id"] {
            case nil, .null?: break
            case .string(let text)? where Identifiers.isValidChestID(text): playerID = text
            default:
                return .failure(
                    .invalidField("player_id", "player_id must be a string of 1 to 64 characters from [A-Za-z0-9_.:-]"))
            }
            if chestIDInBody {
                switch document["chest_id"] {
                case .string(let text)?: chestID = text
                case nil, .null?: return .failure(.missingField("chest_id"))
                default: return .failure(.invalidField("chest_id", "chest_id must be a string"))
                }
            }
        } else if chestIDInBody {
            return .failure(.missingField("chest_id"))
        }
        guard let chestID, Identifiers.isValidChestID(chestID) else {
            return .failure(.badChestID)
        }
        guard !ifMatch.isEmpty else { return .failure(.preconditionRequired) }
        guard let condition = IfMatch(headerValues: ifMatch) else {
            return .failure(.invalidField("If-Match", "If-Match must be * or a list of entity tags such as \"1\""))
        }
        return .success(ActivationRequest(biome: biome, chestID: chestID, condition: condition, playerID: playerID))
    }
}
