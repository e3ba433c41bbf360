import BusDomain
import BusPostgres
import BusService
import Logging

/// The activation service's own error answers; the generic ones (malformed JSON, 404 route,
/// 405, 413, 500) are `APIError`'s.
extension APIError {
    static let chestNotFound = APIError(status: 404, code: "chest_not_found", message: "no such chest")

    static let preconditionRequired = APIError(
        status: 428, code: "precondition_required", message: "activation needs an If-Match header with the chest's ETag"
    )

    static let badBiomeID = APIError.invalidField("biome_id", "biome_id must be an integer from 0 to 2147483647")

    static let badChestID = APIError.invalidField(
        "chest_id", "chest_id must be 1 to 64 characters from [A-Za-z0-9_.:-]")

    static func databaseUnavailable(_ reason: String) -> APIError {
        APIError(status: 503, code: "database_unavailable", message: "database unavailable: \(reason)", retryAfter: 1)
    }

    /// The one mapping of a failed statement to an answer. Database trouble is 503 with
    /// Retry-After: an unreachable or saturated Postgres, and the transient SQLSTATEs (a
    /// statement cancelled by `statement_timeout`, a lock timeout, a deadlock, a read-only or
    /// shutting-down server). A statement the server rejected for good is a bug (500), logged
    /// with its SQLSTATE since the answer does not carry it.
    static func statementFailed(_ error: PostgresError, logger: Logger) -> APIError {
        if error.isTransient { return .databaseUnavailable("\(error)") }
        logger.error("statement failed", metadata: ["sqlstate": "\(error.sqlState ?? "")", "error": "\(error)"])
        return .internalError("the database rejected the statement")
    }
}
