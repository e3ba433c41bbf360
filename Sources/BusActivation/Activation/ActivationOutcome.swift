import BusChests
import BusDomain
import BusService

/// What an activation ends in, decided without I/O from what the database said.
package enum ActivationOutcome: Sendable, Equatable {
    case activated(Chest)
    case notFound
    /// The tag matched the current version, but that version is already activated.
    case alreadyActivated(Chest)
    /// The version moved on (or the tag never matched); carries the current chest for its ETag.
    case preconditionFailed(Chest)

    /// Decides after the conditional UPDATE: `updated` is the row it returned (nil when it
    /// matched nothing), `current` the row read afterwards in that case.
    package static func decide(request: ActivationRequest, updated: Chest?, current: Chest?) -> ActivationOutcome {
        if let updated { return .activated(updated) }
        guard let current else { return .notFound }
        if current.state == .activated && request.condition.matches(current.entityTag) {
            return .alreadyActivated(current)
        }
        return .preconditionFailed(current)
    }

    /// The error answer for every outcome but `activated`.
    package var error: APIError? {
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
