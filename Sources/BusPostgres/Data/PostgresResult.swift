/// The outcome of one statement: column names, rows of text values, and the command's counts.
///
/// Values arrive in Postgres's text format (`t`/`f` for booleans, decimal integers, ISO dates);
/// `PostgresRow`'s accessors parse the common ones.
package struct PostgresResult: Sendable {
    /// Column names in result order; empty for commands that return no rows.
    package let columns: [String]
    package let rows: [PostgresRow]
    /// Rows the command inserted, updated, deleted, selected or copied (`PQcmdTuples`);
    /// 0 for commands without a count (`BEGIN`, `CREATE TABLE`).
    package let affectedRows: Int
    /// The command tag (`PQcmdStatus`): `"UPDATE 1"`, `"SELECT 3"`, `"BEGIN"`.
    package let commandTag: String
    /// The columns' names and positions, shared by the rows.
    let columnIndex: PostgresColumnIndex

    /// A result from plain values (tests, fakes).
    package init(columns: [String], rows: [[String?]], affectedRows: Int? = nil, commandTag: String = "") {
        let index = PostgresColumnIndex(columns)
        self.columns = columns
        self.columnIndex = index
        self.rows = rows.map { PostgresRow(values: $0, index: index) }
        self.affectedRows = affectedRows ?? rows.count
        self.commandTag = commandTag
    }

    /// A result whose rows already share `index` (its columns' names).
    init(index: PostgresColumnIndex, rows: [PostgresRow], affectedRows: Int, commandTag: String) {
        self.columns = index.names
        self.columnIndex = index
        self.rows = rows
        self.affectedRows = affectedRows
        self.commandTag = commandTag
    }

    /// The first row, if any.
    package var first: PostgresRow? { rows.first }
}

/// One row of a `PostgresResult`; values are looked up by column name.
package struct PostgresRow: Sendable {
    /// The row's values in column order; nil is SQL NULL.
    package let values: [String?]
    private let index: PostgresColumnIndex

    init(values: [String?], index: PostgresColumnIndex) {
        self.values = values
        self.index = index
    }

    /// The raw text of `column`; nil when it is NULL or there is no such column.
    package subscript(column: String) -> String? {
        guard let position = index.position(of: column), position < values.count else { return nil }
        return values[position]
    }

    /// True when `column` exists and is NULL.
    package func isNull(_ column: String) -> Bool {
        guard let position = index.position(of: column), position < values.count else { return false }
        return values[position] == nil
    }

    /// The text of a non-NULL `column`.
    package func string(_ column: String) throws(PostgresDecodingError) -> String {
        try text(column, as: "text")
    }

    /// A non-NULL integer `column` (`smallint`, `integer`, `bigint`).
    package func int64(_ column: String) throws(PostgresDecodingError) -> Int64 {
        let text = try text(column, as: "bigint")
        guard let value = Int64(text) else {
            throw PostgresDecodingError(column: column, expected: "bigint", text: text)
        }
        return value
    }

    /// A non-NULL integer `column` that fits an `Int`.
    package func int(_ column: String) throws(PostgresDecodingError) -> Int {
        let text = try text(column, as: "integer")
        guard let value = Int(text) else {
            throw PostgresDecodingError(column: column, expected: "integer", text: text)
        }
        return value
    }

    /// A non-NULL `boolean` column (text format `t` / `f`).
    package func bool(_ column: String) throws(PostgresDecodingError) -> Bool {
        let text = try text(column, as: "boolean")
        switch text {
        case "t", "true": return true
        case "f", "false": return false
        default: throw PostgresDecodingError(column: column, expected: "boolean", text: text)
        }
    }

    /// A non-NULL floating point or numeric `column`.
    package func double(_ column: String) throws(PostgresDecodingError) -> Double {
        let text = try text(column, as: "double precision")
        guard let value = Double(text) else {
            throw PostgresDecodingError(column: column, expected: "double precision", text: text)
        }
        return value
    }

    private func text(_ column: String, as expected: String) throws(PostgresDecodingError) -> String {
        guard let position = index.position(of: column), position < values.count else {
            throw PostgresDecodingError(column: column, expected: expected, text: nil, missingColumn: true)
        }
        guard let text = values[position] else {
            throw PostgresDecodingError(column: column, expected: expected, text: nil)
        }
        return text
    }
}

/// A column that is missing, NULL, or not text of the expected type.
package struct PostgresDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    package let column: String
    /// The SQL type the caller asked for.
    package let expected: String
    /// The value as Postgres sent it; nil for NULL or a missing column.
    package let text: String?
    package let missingColumn: Bool

    package init(column: String, expected: String, text: String?, missingColumn: Bool = false) {
        self.column = column
        self.expected = expected
        self.text = text
        self.missingColumn = missingColumn
    }

    package var description: String {
        if missingColumn { return "no column \(column) in the result" }
        guard let text else { return "column \(column) is NULL, expected \(expected)" }
        return "column \(column) is \"\(text)\", expected \(expected)"
    }
}

/// Column name to position, shared by every row of one result (and by the results after it
/// with the same columns, see `PostgresResult(copying:columnsLike:)`).
///
/// A linear search over the names: a result has a handful of columns, and most callers read
/// rows by position; hashing every name into a dictionary per result cost more than all the
/// lookups it served (~13k instructions per activation, bench/instructions).
final class PostgresColumnIndex: Sendable {
    let names: [String]
    /// The names as NUL-terminated UTF-8, one after another, to recognise a result with the
    /// same columns without making Strings of its names.
    let terminatedNames: [CChar]

    init(_ columns: [String]) {
        names = columns
        var terminated: [CChar] = []
        for name in columns { terminated.append(contentsOf: name.utf8CString) }
        terminatedNames = terminated
    }

    /// With duplicate names (`SELECT a.id, b.id`) the first column wins, as in psql's \gset.
    func position(of column: String) -> Int? { names.firstIndex(of: column) }
}
