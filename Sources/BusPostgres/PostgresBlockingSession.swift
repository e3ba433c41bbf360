import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

/// A synchronous libpq connection for startup work: migrations and one-shot CLI commands.
///
/// It blocks the calling thread, so it must never run on an event loop; services use it
/// before their loops start. Connecting and every statement are bounded by timeouts
/// (libpq's `connect_timeout`, the server's `statement_timeout` and `lock_timeout`).
package final class PostgresBlockingSession {
    /// The libpq connection; owned here and finished in `close()` or deinit.
    private var connection: OpaquePointer?

    /// Connects to `url` (a libpq URI or key=value string). Statements have no server-side
    /// timeout unless the caller sets one (`SET LOCAL statement_timeout` inside a transaction,
    /// which also works through a transaction-pooling pgbouncer).
    package init(url: String, connectTimeoutSeconds: Int = 5) throws(PostgresBlockingError) {
        let separator = url.contains("?") ? "&" : "?"
        let conninfo =
            url.hasPrefix("postgres")
            ? url + separator + "connect_timeout=\(connectTimeoutSeconds)"
            : url + " connect_timeout=\(connectTimeoutSeconds)"
        guard let connection = PQconnectdb(conninfo) else {
            throw PostgresBlockingError(message: "out of memory", sqlState: nil)
        }
        self.connection = connection
        guard PQstatus(connection) == CONNECTION_OK else {
            // libpq quotes a connection string that does not parse: never show its passwords.
            let message = PostgresURLRedaction.redacting(Self.trimmed(PQerrorMessage(connection)), of: conninfo)
            close()
            throw PostgresBlockingError(message: message, sqlState: nil)
        }
        // Notices ("relation already exists, skipping") would go to stderr; drop them.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
    }

    deinit {
        close()
    }

    package func close() {
        if let connection { PQfinish(connection) }
        connection = nil
    }

    /// Runs one statement (text parameters, `nil` for NULL) and returns its rows as text.
    @discardableResult
    package func execute(_ sql: String, _ parameters: [String?] = []) throws(PostgresBlockingError) -> [[String?]] {
        guard let connection else { throw PostgresBlockingError(message: "session is closed", sqlState: nil) }
        // strdup'ed copies live until the result is read; freed just below.
        let values = parameters.map { $0.flatMap { strdup($0) } }
        defer {
            for value in values { free(value) }
        }
        let pointers: [UnsafePointer<CChar>?] = values.map { $0.map { UnsafePointer($0) } }
        let result: OpaquePointer? = pointers.withUnsafeBufferPointer { pointers in
            PQexecParams(connection, sql, Int32(parameters.count), nil, pointers.baseAddress, nil, nil, 0)
        }
        guard let result else {
            throw PostgresBlockingError(message: Self.trimmed(PQerrorMessage(connection)), sqlState: nil)
        }
        // The result is ours until PQclear.
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
            var rows: [[String?]] = []
            for row in 0..<PQntuples(result) {
                rows.append(
                    (0..<PQnfields(result)).map { column in
                        PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
                    })
            }
            return rows
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            throw PostgresBlockingError(message: Self.trimmed(PQresultErrorMessage(result)), sqlState: state)
        }
    }

    private static func trimmed(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "unknown error" }
        // libpq messages can span lines ("…failed: Connection refused\n\tIs the server
        // running…"); CLI errors must stay on one line.
        return String(cString: text).split(whereSeparator: \.isNewline)
            .map { $0.trimmingPrefix(while: \.isWhitespace) }.filter { !$0.isEmpty }.joined(separator: "; ")
    }
}

/// A failed blocking connect or statement.
package struct PostgresBlockingError: Error, Sendable, CustomStringConvertible {
    package let message: String
    /// The SQLSTATE, when the server reported one (e.g. `42P01`).
    package let sqlState: String?

    package var description: String { sqlState.map { "\(message) (SQLSTATE \($0))" } ?? message }
}
