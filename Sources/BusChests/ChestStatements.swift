import BusDomain
import BusPostgres

/// One statement on `treasure_chests`: its SQL and the name it is prepared under (when a
/// service prepares statements).
package struct ChestStatement: Sendable {
    package let name: String
    package let sql: String
}

/// Every statement on `treasure_chests`, with the encoding of its parameters and the decoding
/// of its rows, so that the table's columns are written down in one module (with `Schema`).
///
/// Parameters are text-format: numbers as decimal strings, lists as Postgres array literals.
package enum ChestStatements {
    /// The columns every reading statement returns, in `chests(in:)` order.
    static let columns = "biome_id, chest_id, type, array_to_json(coords)::text, state, version, activated_by"

    /// Activation's one round trip on the happy path: the conditional UPDATE … RETURNING, for
    /// `If-Match` naming one version (`"1"`, as nearly every client sends): `$3` is that version.
    ///
    /// One statement per kind of condition rather than one `($3::bigint[] IS NULL OR version =
    /// ANY ($3::bigint[]))` for all: counted in the backend (callgrind, pgbench -M prepared on
    /// one connection), the general condition cost Postgres ~9k instructions (5 %) more per
    /// activation than pgbench's `version = 1`, the scalar one ~3.5k.
    package static let activate = ChestStatement(
        name: "activate_chest",
        sql: activation(condition: "AND version = $3::bigint", player: "$4"))

    /// `activate` for `If-Match` listing several versions: `$3` is their array literal.
    package static let activateAnyOf = ChestStatement(
        name: "activate_chest_any_of",
        sql: activation(condition: "AND version = ANY ($3::bigint[])", player: "$4"))

    /// `activate` for `If-Match: *`: any version.
    package static let activateAnyVersion = ChestStatement(
        name: "activate_chest_any_version", sql: activation(condition: "", player: "$3"))

    private static func activation(condition: String, player: String) -> String {
        """
        UPDATE treasure_chests
           SET state = 'activated', version = version + 1, activated_by = \(player), activated_at = now()
         WHERE biome_id = $1 AND chest_id = $2 AND state = 'spawned' \(condition)
        RETURNING \(columns)
        """
    }

    package static let find = ChestStatement(
        name: "find_chest", sql: "SELECT \(columns) FROM treasure_chests WHERE biome_id = $1 AND chest_id = $2")

    package static let list = ChestStatement(
        name: "list_chests",
        sql: """
            SELECT \(columns) FROM treasure_chests
             WHERE biome_id = $1 AND ($2::text IS NULL OR state = $2)
             ORDER BY chest_id LIMIT $3
            """)

    /// One spawn; a chest that exists already is left alone (redelivery is harmless).
    package static let insertOne = ChestStatement(
        name: "insert_chest",
        sql: """
            INSERT INTO treasure_chests (biome_id, chest_id, type, coords, state, version, stream_id, spawned_at)
            VALUES ($1, $2, $3, $4::double precision[], 'spawned', 1, $5, to_timestamp($6::bigint / 1000.0))
            ON CONFLICT (biome_id, chest_id) DO NOTHING
            """)

    /// Many spawns in one statement, one array parameter per column.
    package static let insertBatch = ChestStatement(
        name: "insert_chests",
        sql: """
            INSERT INTO treasure_chests (biome_id, chest_id, type, coords, state, version, stream_id, spawned_at)
            SELECT b, c, t, co::double precision[], 'spawned', 1, s, to_timestamp(ts / 1000.0)
              FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) AS u(b, c, t, co, s, ts)
            ON CONFLICT (biome_id, chest_id) DO NOTHING
            """)

    /// `versions` nil accepts any version (`If-Match: *`); else `{1,2}`.
    /// The activation statement for `versions` (nil: any version) and its parameters.
    package static func activation(biome: BiomeID, chestID: String, versions: [Int64]?, playerID: String?)
        -> (statement: ChestStatement, parameters: [String?])
    {
        guard let versions else { return (activateAnyVersion, [String(biome.value), chestID, playerID]) }
        if versions.count == 1 { return (activate, [String(biome.value), chestID, String(versions[0]), playerID]) }
        return (activateAnyOf, [String(biome.value), chestID, versionList(versions), playerID])
    }

    /// `{1,2}`.
    private static func versionList(_ versions: [Int64]) -> String {
        "{" + versions.map(String.init).joined(separator: ",") + "}"
    }

    package static func findParameters(biome: BiomeID, chestID: String) -> [String?] {
        [String(biome.value), chestID]
    }

    /// `state` nil lists every state.
    package static func listParameters(biome: BiomeID, state: Chest.State?, limit: Int) -> [String?] {
        [String(biome.value), state?.rawValue, String(limit)]
    }

    package static func insertOneParameters(_ chest: NewChest) -> [String?] {
        [
            String(chest.biome.value), chest.chestID, chest.type, chest.coordinatesArrayLiteral, chest.streamID,
            String(chest.receivedAtMs),
        ]
    }

    package static func insertBatchParameters(_ chests: [NewChest]) -> [String?] {
        [
            PostgresArrayLiteral.of(chests.map { String($0.biome.value) }),
            PostgresArrayLiteral.of(chests.map(\.chestID)),
            PostgresArrayLiteral.of(chests.map(\.type)),
            PostgresArrayLiteral.of(chests.map(\.coordinatesArrayLiteral)),
            PostgresArrayLiteral.of(chests.map(\.streamID)),
            PostgresArrayLiteral.of(chests.map { String($0.receivedAtMs) }),
        ]
    }

    /// Rows in `columns` order; a row that does not decode is skipped (the schema forbids it).
    package static func chests(in result: PostgresResult) -> [Chest] {
        result.rows.compactMap { row in
            let values = row.values
            guard values.count == 7, let biomeText = values[0], let biome = BiomeID(biomeText), let chestID = values[1],
                let type = values[2], let coordinates = values[3], let stateText = values[4],
                let state = Chest.State(rawValue: stateText), let versionText = values[5],
                let version = Int64(versionText)
            else { return nil }
            return Chest(
                biome: biome, chestID: chestID, type: type, coordinatesJSON: coordinates, state: state,
                version: version,
                activatedBy: values[6])
        }
    }
}

extension PostgresPool {
    /// Runs a chest statement, prepared under its name once per connection when `prepared`
    /// (off behind a transaction-pooling pgbouncer older than 1.21).
    package func query(
        _ statement: ChestStatement, _ parameters: [String?], prepared: Bool,
        _ completion: @escaping PostgresConnection.Completion
    ) {
        query(statement.sql, parameters, statementName: prepared ? statement.name : nil, completion)
    }
}
