/// A validated activation request.
public struct ActivationRequest: Sendable, Equatable {
    public var biome: BiomeID
    public var chestID: String
    public var condition: IfMatch
    public var playerID: String?

    public init(biome: BiomeID, chestID: String, condition: IfMatch, playerID: String?) {
        self.biome = biome
        self.chestID = chestID
        self.condition = condition
        self.playerID = playerID
    }

    /// Validates the parts of `POST …/chests/{chest_id}/activate` (and the seed alias, whose
    /// chest id comes from the body). `ifMatch` holds every `If-Match` field value.
    public static func validate(
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
            switch JSONValue.object(fromBody: body) {
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
            return .failure(.invalidField("chest_id", "chest_id must be 1 to 64 characters from [A-Za-z0-9_.:-]"))
        }
        guard !ifMatch.isEmpty else { return .failure(.preconditionRequired) }
        guard let condition = IfMatch(headerValues: ifMatch) else {
            return .failure(.invalidField("If-Match", "If-Match must be * or a list of entity tags such as \"1\""))
        }
        return .success(ActivationRequest(biome: biome, chestID: chestID, condition: condition, playerID: playerID))
    }
}

/// What an activation ends in, decided without I/O from what the database said.
public enum ActivationOutcome: Sendable, Equatable {
    case activated(Chest)
    case notFound
    /// The tag matched the current version, but that version is already activated.
    case alreadyActivated(Chest)
    /// The version moved on (or the tag never matched); carries the current chest for its ETag.
    case preconditionFailed(Chest)

    /// Decides after the conditional UPDATE: `updated` is the row it returned (nil when it
    /// matched nothing), `current` the row read afterwards in that case.
    public static func decide(request: ActivationRequest, updated: Chest?, current: Chest?) -> ActivationOutcome {
        if let updated { return .activated(updated) }
        guard let current else { return .notFound }
        if current.state == .activated && request.condition.matches(current.entityTag) {
            return .alreadyActivated(current)
        }
        return .preconditionFailed(current)
    }

    /// The error answer for every outcome but `activated`.
    public var error: APIError? {
        switch self {
        case .activated: nil
        case .notFound: .chestNotFound
        case .alreadyActivated(let chest):
            APIError(
                status: 409, code: "already_activated", message: "chest \(chest.chestID) is already activated",
                headers: [.init(name: "ETag", value: chest.entityTag.description)])
        case .preconditionFailed(let chest):
            APIError(
                status: 412, code: "etag_mismatch",
                message: "chest \(chest.chestID) is at version \(chest.version); If-Match did not match",
                headers: [.init(name: "ETag", value: chest.entityTag.description)])
        }
    }
}

extension APIError {
    public static let chestNotFound = APIError(status: 404, code: "chest_not_found", message: "no such chest")

    public static let preconditionRequired = APIError(
        status: 428, code: "precondition_required", message: "activation needs an If-Match header with the chest's ETag"
    )

    public static func databaseUnavailable(_ reason: String) -> APIError {
        APIError(status: 503, code: "database_unavailable", message: "database unavailable: \(reason)", retryAfter: 1)
    }
}
