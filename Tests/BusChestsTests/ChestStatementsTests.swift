import BusDomain
import BusPostgres
import Testing

@testable import BusChests

@Suite("treasure_chests statements: rows and parameters")
struct ChestStatementsTests {
    private let columns = ["biome_id", "chest_id", "type", "array_to_json", "state", "version", "activated_by"]

    @Test("a row in column order decodes to a Chest; NULL activated_by is nil")
    func decodesRows() {
        let result = PostgresResult(
            columns: columns,
            rows: [
                ["53", "c-9", "chest", "[1.5,2,3.25]", "spawned", "1", nil],
                ["53", "c-10", "relic", "[0,1]", "activated", "2", "p-1"],
            ])
        #expect(
            ChestStatements.chests(in: result) == [
                Chest(
                    biome: BiomeID(53)!, chestID: "c-9", type: "chest", coordinatesJSON: "[1.5,2,3.25]",
                    state: .spawned, version: 1, activatedBy: nil),
                Chest(
                    biome: BiomeID(53)!, chestID: "c-10", type: "relic", coordinatesJSON: "[0,1]", state: .activated,
                    version: 2, activatedBy: "p-1"),
            ])
    }

    @Test("a row that does not decode is skipped, the others kept")
    func skipsBadRows() {
        let good: [String?] = ["1", "c", "chest", "[0,0]", "spawned", "1", nil]
        var bad: [[String?]] = []
        for column in 0..<6 {
            var row = good
            row[column] = nil
            bad.append(row)
        }
        bad.append(["-1", "c", "chest", "[0,0]", "spawned", "1", nil])
        bad.append(["1", "c", "chest", "[0,0]", "open", "1", nil])
        bad.append(["1", "c", "chest", "[0,0]", "spawned", "v1", nil])
        let result = PostgresResult(columns: columns, rows: bad + [good])
        #expect(ChestStatements.chests(in: result).map(\.chestID) == ["c"])
        #expect(ChestStatements.chests(in: PostgresResult(columns: ["a"], rows: [["1"]])).isEmpty)
    }

    @Test("activation: * takes any version, one tag is a scalar version, a tag list is {1,2}")
    func activationParameters() {
        let biome = BiomeID(53)!
        let any = ChestStatements.activation(biome: biome, chestID: "c-9", versions: nil, playerID: nil)
        #expect(any.statement.name == ChestStatements.activateAnyVersion.name)
        #expect(any.parameters == ["53", "c-9", nil])
        #expect(!any.statement.sql.contains("$4") && !any.statement.sql.contains("AND version"))
        let one = ChestStatements.activation(biome: biome, chestID: "c-9", versions: [7], playerID: "p-1")
        #expect(one.statement.name == ChestStatements.activate.name)
        #expect(one.parameters == ["53", "c-9", "7", "p-1"])
        #expect(one.statement.sql.contains("version = $3::bigint"))
        let list = ChestStatements.activation(biome: biome, chestID: "c-9", versions: [1, 2], playerID: "p-1")
        #expect(list.statement.name == ChestStatements.activateAnyOf.name)
        #expect(list.parameters == ["53", "c-9", "{1,2}", "p-1"])
        #expect(ChestStatements.findParameters(biome: biome, chestID: "c-9") == ["53", "c-9"])
        #expect(ChestStatements.listParameters(biome: biome, state: nil, limit: 100) == ["53", nil, "100"])
        #expect(ChestStatements.listParameters(biome: biome, state: .activated, limit: 5) == ["53", "activated", "5"])
    }

    private func newChest(_ chestID: String, type: String = "chest") -> NewChest {
        NewChest(
            biome: BiomeID(7)!, chestID: chestID, type: type, coordinates: [1.5, 2, 3.25], streamID: "1-0",
            receivedAtMs: 1_700_000_000_000)
    }

    @Test("insert parameters: one row as text, a batch as one array literal per column")
    func insertParameters() {
        #expect(newChest("c").coordinatesArrayLiteral == "{1.5,2,3.25}")
        #expect(
            ChestStatements.insertOneParameters(newChest("c"))
                == ["7", "c", "chest", "{1.5,2,3.25}", "1-0", "1700000000000"])
        #expect(
            ChestStatements.insertBatchParameters([newChest("a"), newChest("b")]) == [
                #"{"7","7"}"#, #"{"a","b"}"#, #"{"chest","chest"}"#, #"{"{1.5,2,3.25}","{1.5,2,3.25}"}"#,
                #"{"1-0","1-0"}"#, #"{"1700000000000","1700000000000"}"#,
            ])
    }

    @Test("batch literals quote and escape every element: quotes, backslashes, commas, NULL, unicode")
    func arrayLiterals() {
        #expect(PostgresArrayLiteral.of([]) == "{}")
        #expect(
            PostgresArrayLiteral.of([#"a"b"#, #"c\d"#, "e,f", "NULL", "", "ünï 🗝"])
                == #"{"a\"b","c\\d","e,f","NULL","","ünï 🗝"}"#)
    }

    @Test("every statement has its own prepared name")
    func statementNames() {
        let statements = [
            ChestStatements.activate, ChestStatements.activateAnyOf, ChestStatements.activateAnyVersion,
            ChestStatements.find, ChestStatements.list, ChestStatements.insertOne,
            ChestStatements.insertBatch,
        ]
        #expect(Set(statements.map(\.name)).count == statements.count)
        #expect(statements.allSatisfy { $0.sql.contains("treasure_chests") })
    }

    @Test("migrations: versions unique and ascending from 1")
    func migrations() {
        let versions = Schema.migrations.map(\.version)
        #expect(versions == Array(1...versions.count))
        #expect(Schema.migrations.allSatisfy { !$0.statements.isEmpty && !$0.name.isEmpty })
    }
}
