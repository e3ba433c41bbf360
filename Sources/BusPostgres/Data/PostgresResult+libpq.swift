import CLibPQ

extension PostgresResult {
    /// Copies a successful `PGresult` into Swift values. The caller still owns (and clears) it.
    init(copying result: OpaquePointer) {
        let columnCount = PQnfields(result)
        let rowCount = PQntuples(result)
        let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        var rows: [[String?]] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    // PQgetvalue points into the PGresult, valid until PQclear; String copies it.
                    let bytes = UnsafeRawBufferPointer(
                        start: PQgetvalue(result, row, column), count: Int(PQgetlength(result, row, column)))
                    values.append(String(decoding: bytes, as: UTF8.self))
                }
            }
            rows.append(values)
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        self.init(
            columns: columns, rows: rows, affectedRows: affected, commandTag: String(cString: PQcmdStatus(result)))
    }
}

extension PostgresError {
    /// The error a failed `PGresult` reports. The caller still owns (and clears) it.
    init(failed result: OpaquePointer) {
        let sqlState = PQresultErrorField(result, diagnosticSQLState).map { String(cString: $0) } ?? ""
        // The primary message is one line ("relation \"x\" does not exist"); the full message
        // adds severity, position and context lines, which suit logs less.
        let message =
            PQresultErrorField(result, diagnosticMessagePrimary).map { String(cString: $0) }
            ?? String(cString: PQresultErrorMessage(result))
        self = .server(sqlState: sqlState, message: message.trimmingTrailingNewlines)
    }
}

// postgres_ext.h's PG_DIAG_SQLSTATE ('C') and PG_DIAG_MESSAGE_PRIMARY ('M'): character-literal
// macros, which Swift does not import.
private let diagnosticSQLState = Int32(UInt8(ascii: "C"))
private let diagnosticMessagePrimary = Int32(UInt8(ascii: "M"))

extension String {
    /// libpq ends its messages with a newline.
    var trimmingTrailingNewlines: String {
        var text = Substring(self)
        while text.last?.isNewline == true { text = text.dropLast() }
        return String(text)
    }
}
