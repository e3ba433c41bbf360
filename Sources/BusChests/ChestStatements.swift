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

    /// Activation's one round trip on the happy path: the conditional UPDATE … RETURNING.
    /// `$3` is the list of acceptable versions, or NULL for `If-Match: *`.
    package static let activate = ChestStatement(
        name: "activate_chest",
        sql: """
            UPDATE treasure_chests
               SET state = 'activated', version = version + 1, activated_by = $4, activated_at = now()
             WHERE biome_id = $1 AND chest_id = $2 AND state = 'spawned'
               AND ($3::bigint[] IS NULL OR version = ANY ($3::bigint[]))
            RETURNING \(columns)
            """)

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
    package static func activateParameters(biome: BiomeID, chestID: String, versions: [Int64]?, playerID: String?)
        -> [String?]
    {
        return [String(biome.value), chestID, versions.map(versionList), playerID]
    }

    /// `{1,2}`; one version (the usual `If-Match: "1"`) without the map-and-join's arrays.
    private static func versionList(_ versions: [Int64]) -> String {
        if versions.count == 1 { return "{" + String(versions[0]) + "}" }
        return "{" + versions.map(String.init).joined(separator: ",") + "}"
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
