/// Why a Postgres statement did not produce a result.
///
/// This is the one error type of the Postgres boundary; services map it to HTTP in one place
/// (the activation service answers `503 database_unavailable` for every transient error, see
/// `isTransient`, and 500 for a statement the server rejected for good).
package enum PostgresError: Error, Sendable, Equatable, CustomStringConvertible {
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

    package var description: String {
        switch self {
        case .unavailable: "Postgres unavailable"
        case .timedOut: "Postgres did not answer in time"
        case .poolExhausted: "no Postgres connection free in time"
        case .server(let sqlState, let message): "Postgres error \(sqlState): \(message)"
        case .connectionLost: "Postgres connection lost"
        }
    }

    /// The SQLSTATE of a server error, nil for every other case.
    package var sqlState: String? {
        if case .server(let sqlState, _) = self { return sqlState }
        return nil
    }

    /// True for the errors a server sends as it ends the session (`57P01 admin_shutdown`,
    /// `57P02 crash_shutdown`): the link is as good as gone before libpq reads the EOF after them.
    package var endsSession: Bool { sqlState == "57P01" || sqlState == "57P02" }

    /// True for `23505 unique_violation` (an INSERT that lost a race, for example).
    package var isUniqueViolation: Bool { sqlState == "23505" }

    /// True when the same statement may well succeed if tried again later: every case but
    /// `.server`, and server errors whose SQLSTATE says the database, not the statement, was
    /// the trouble (`transientSQLStates`). A caller answers these with "retry later" (503 with
    /// `Retry-After`, or a retry of a consumer batch) rather than treating the input as bad.
    package var isTransient: Bool {
        guard case .server(let sqlState, _) = self else { return true }
        return Self.isTransient(sqlState: sqlState)
    }

    /// True for a SQLSTATE that a retry can clear; see `transientSQLStates`, plus every code of
    /// class 08 (connection exception).
    package static func isTransient(sqlState: String) -> Bool {
        transientSQLStates.contains(sqlState) || sqlState.hasPrefix("08")
    }

    /// SQLSTATEs that say "not now" rather than "never":
    /// - `57014 query_canceled`: `statement_timeout` fired (the client sets it just under its
    ///   own deadline) or someone cancelled the backend;
    /// - `40P01 deadlock_detected`, `40001 serialization_failure`: the transaction lost a race;
    /// - `55P03 lock_not_available`: `lock_timeout` fired;
    /// - `25006 read_only_sql_transaction`: connected to a standby or a read-only primary, as
    ///   during a failover;
    /// - `57P01 admin_shutdown`, `57P02 crash_shutdown`, `57P03 cannot_connect_now`: the
    ///   server is stopping, crashed or still starting.
    package static let transientSQLStates: Set<String> = [
        "57014", "40P01", "40001", "55P03", "25006", "57P01", "57P02", "57P03",
    ]
}
