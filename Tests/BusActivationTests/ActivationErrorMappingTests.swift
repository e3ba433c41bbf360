import BusDomain
import BusPostgres
import BusService
import Logging
import Testing

@testable import BusActivation

@Suite("Postgres errors to API answers")
struct ActivationErrorMappingTests {
    private let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test("unreachable, saturated or transient: 503 database_unavailable with Retry-After")
    func transient() {
        let errors: [PostgresError] = [
            .unavailable, .timedOut, .poolExhausted, .connectionLost,
            .server(sqlState: "57014", message: "canceling statement due to statement timeout"),
            .server(sqlState: "40P01", message: "deadlock detected"),
            .server(sqlState: "08006", message: "connection failure"),
        ]
        for error in errors {
            let answer = APIError.statementFailed(error, logger: logger)
            #expect(answer.status == 503, "\(error)")
            #expect(answer.code == "database_unavailable")
            #expect(answer.retryAfter == 1)
            #expect(answer.message == "database unavailable: \(error)")
        }
    }

    @Test("a statement rejected for good: 500 without the server's text")
    func permanent() {
        let answer = APIError.statementFailed(
            .server(sqlState: "42P01", message: "relation \"treasure_chests\" does not exist"), logger: logger)
        #expect(answer == .internalError("the database rejected the statement"))
        #expect(answer.retryAfter == nil)
    }

    @Test("the activation codes")
    func codes() {
        #expect(APIError.chestNotFound.status == 404)
        #expect(APIError.preconditionRequired.status == 428)
        #expect(APIError.badBiomeID.code == "invalid_field")
        #expect(APIError.badChestID.message == "chest_id must be 1 to 64 characters from [A-Za-z0-9_.:-]")
    }
}
