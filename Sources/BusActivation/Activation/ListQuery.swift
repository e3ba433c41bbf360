import BusChests
import BusDomain
import BusService

/// The query string of `GET …/chests`: an optional state filter and a page size.
struct ListQuery: Sendable, Equatable {
    var state: Chest.State?
    var limit: Int

    /// The page size when the query names none.
    static let defaultLimit = 100

    /// The largest page a client may ask for.
    static let maxLimit = 1000

    init(state: Chest.State? = nil, limit: Int = ListQuery.defaultLimit) {
        self.state = state
        self.limit = limit
    }

    /// Reads `state` (spawned or activated) and `limit` (1 to 1000); other parameters are ignored.
    static func parse(_ query: [String: String]) -> Result<ListQuery, APIError> {
        var parsed = ListQuery()
        if let text = query["state"] {
            guard let state = Chest.State(rawValue: text) else {
                return .failure(.invalidField("state", "state must be spawned or activated"))
            }
            parsed.state = state
        }
        if let text = query["limit"] {
            guard let limit = Int(text), (1...maxLimit).contains(limit) else {
                return .failure(.invalidField("limit", "limit must be an integer from 1 to \(maxLimit)"))
            }
            parsed.limit = limit
        }
        return .success(parsed)
    }
}
