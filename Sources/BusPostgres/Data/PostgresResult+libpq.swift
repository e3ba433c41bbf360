import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

extension PostgresResult {
    /// Copies a successful `PGresult` into Swift values. The caller still owns (and clears) it.
    ///
    /// `previous` is the column index of an earlier result on the same connection: when this
    /// result's column names are the same (a prepared statement run again), its rows share that
    /// index instead of making a String of every name again (~3k instructions per activation).
    init(copying result: OpaquePointer, columnsLike previous: PostgresColumnIndex? = nil) {
        let columnCount = PQnfields(result)
        let rowCount = PQntuples(result)
        let index: PostgresColumnIndex
        if let previous, previous.names.count == Int(columnCount), previous.hasNames(of: result) {
            index = previous
        } else {
            index = PostgresColumnIndex((0..<columnCount).map { String(cString: PQfname(result, $0)) })
        }
        var rows: [PostgresRow] = []
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
            rows.append(PostgresRow(values: values, index: index))
        }
        self.init(
            index: index, rows: rows, affectedRows: Self.decimal(PQcmdTuples(result)),
            commandTag: String(cString: PQcmdStatus(result)))
    }

    /// `PQcmdTuples`' digits ("" for commands without a count) as a number, 0 when there are none.
    private static func decimal(_ text: UnsafePointer<CChar>?) -> Int {
        guard var pointer = text, pointer.pointee != 0 else { return 0 }
        var value = 0
        while pointer.pointee != 0 {
            let digit = Int(pointer.pointee) - Int(UInt8(ascii: "0"))
            guard (0...9).contains(digit) else { return 0 }
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow, shifted <= Int.max - digit else { return 0 }
            value = shifted + digit
            pointer += 1
        }
        return value
    }
}

extension PostgresColumnIndex {
    /// True when `result`'s column names are this index's, in order (the counts already match).
    func hasNames(of result: OpaquePointer) -> Bool {
        terminatedNames.withUnsafeBufferPointer { terminated in
            var offset = 0
            for column in 0..<Int32(names.count) {
                guard let name = PQfname(result, column), let start = terminated.baseAddress?.advanced(by: offset),
                    strcmp(name, start) == 0
                else { return false }
                offset += strlen(start) + 1
            }
            return true
        }
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
