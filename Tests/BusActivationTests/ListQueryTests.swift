import BusChests
import BusDomain
import BusService
import Testing

@testable import BusActivation

@Suite("GET …/chests query")
struct ListQueryTests {
    private func error(_ query: [String: String]) -> APIError? {
        if case .failure(let error) = ListQuery.parse(query) { return error }
        return nil
    }

    @Test("no parameters: every state, 100 chests; unknown parameters are ignored")
    func defaults() throws {
        #expect(try ListQuery.parse([:]).get() == ListQuery(state: nil, limit: 100))
        #expect(try ListQuery.parse(["page": "2"]).get() == ListQuery(state: nil, limit: 100))
    }

    @Test("state and limit are read")
    func values() throws {
        #expect(try ListQuery.parse(["state": "spawned"]).get().state == .spawned)
        #expect(
            try ListQuery.parse(["state": "activated", "limit": "1"]).get() == ListQuery(state: .activated, limit: 1))
        #expect(try ListQuery.parse(["limit": "1000"]).get().limit == 1000)
    }

    @Test("a bad state or limit is 400 invalid_field with the contract's message")
    func errors() {
        for state in ["", "Spawned", "open"] {
            #expect(
                error(["state": state])
                    == .invalidField("state", "state must be spawned or activated"), "\(state)")
        }
        for limit in ["0", "1001", "-1", "x", "", "1.5"] {
            let failure = error(["limit": limit])
            #expect(failure?.status == 400, "\(limit)")
            #expect(failure?.code == "invalid_field")
            #expect(failure?.message == "limit must be an integer from 1 to 1000")
        }
    }
}
