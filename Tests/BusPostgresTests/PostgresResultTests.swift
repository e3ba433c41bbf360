import BusPostgres
import Testing

@Suite("PostgresResult and PostgresRow")
struct PostgresResultTests {
    private let result = PostgresResult(
        columns: ["version", "state", "activated", "ratio", "activated_by", "id", "id"],
        rows: [["7", "spawned", "f", "0.25", nil, "a", "b"], ["x", "activated", "t", "NaN", "p-1", "c", "d"]],
        affectedRows: 2, commandTag: "SELECT 2")

    @Test("typed accessors decode Postgres text format")
    func typedAccessors() throws {
        let row = try #require(result.first)
        #expect(try row.int64("version") == 7)
        #expect(try row.int("version") == 7)
        #expect(try row.string("state") == "spawned")
        #expect(try row.bool("activated") == false)
        #expect(try row.double("ratio") == 0.25)
        #expect(try result.rows[1].bool("activated"))
        #expect(result.affectedRows == 2)
        #expect(result.commandTag == "SELECT 2")
    }

    @Test("NULL, a missing column and bad text are decoding errors that name the column")
    func decodingErrors() throws {
        let row = try #require(result.first)
        #expect(throws: PostgresDecodingError(column: "activated_by", expected: "text", text: nil)) {
            try row.string("activated_by")
        }
        #expect(throws: PostgresDecodingError(column: "nope", expected: "bigint", text: nil, missingColumn: true)) {
            try row.int64("nope")
        }
        #expect(throws: PostgresDecodingError(column: "version", expected: "bigint", text: "x")) {
            try result.rows[1].int64("version")
        }
        #expect(throws: PostgresDecodingError.self) { try row.bool("state") }
    }

    @Test("the subscript gives raw text or nil; isNull tells NULL from missing")
    func rawAccess() throws {
        let row = try #require(result.first)
        #expect(row["state"] == "spawned")
        #expect(row["activated_by"] == nil)
        #expect(row.isNull("activated_by"))
        #expect(!row.isNull("nope"))
        #expect(row["id"] == "a", "the first of duplicate columns wins")
    }

    @Test("affectedRows defaults to the row count")
    func defaults() {
        #expect(PostgresResult(columns: ["a"], rows: [["1"], ["2"]]).affectedRows == 2)
        #expect(PostgresResult(columns: [], rows: []).first == nil)
    }

    @Test("errors expose their SQLSTATE")
    func errors() {
        #expect(PostgresError.server(sqlState: "23505", message: "duplicate key").isUniqueViolation)
        #expect(PostgresError.server(sqlState: "42P01", message: "no table").sqlState == "42P01")
        #expect(PostgresError.timedOut.sqlState == nil)
    }
}
