/// Why a Postgres statement did not produce a result.
///
/// This is the one error type of the Postgres boundary; services map it to HTTP in one place
/// (the activation service answers `503 database_unavailable` for every case but `.server`).
public enum PostgresError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No usable connection: connecting, reconnecting after a failure, Postgres is down, or the
    /// pool/connection is closed. The statement was not sent.
    case unavailable
    /// No result within the statement's timeout. The connection was closed (which ends the
    /// statement's session); the statement may or may not have been applied.
    case timedOut
    /// No connection became free before the lease deadline, or too many callers were already
    /// waiting. The statement was not sent.
    case poolExhausted
    /// Postgres answered with an error. `sqlState` is the five-character SQLSTATE
    /// (`23505` unique violation, `42P01` undefined table, `40001` serialization failure);
    /// it is empty for the rare errors libpq raises itself on a healthy connection.
    case server(sqlState: String, message: String)
    /// The connection broke while the statement was in flight; it may or may not have been
    /// applied. The connection reconnects by itself.
    case connectionLost

    public var description: String {
        switch self {
        case .unavailable: "Postgres unavailable"
        case .timedOut: "Postgres did not answer in time"
        case .poolExhausted: "no Postgres connection free in time"
        case .server(let sqlState, let message): "Postgres error \(sqlState): \(message)"
        case .connectionLost: "Postgres connection lost"
        }
    }

    /// The SQLSTATE of a server error, nil for every other case.
    public var sqlState: String? {
        if case .server(let sqlState, _) = self { return sqlState }
        return nil
    }

    /// True for `23505 unique_violation` (an INSERT that lost a race, for example).
    public var isUniqueViolation: Bool { sqlState == "23505" }
}
