import BusDomain
import BusPostgres

/// Chests in Postgres, for one loop: every method runs on that loop and completes there.
///
/// Activation is one round trip on the happy path: a conditional UPDATE … RETURNING. Only when
/// it matches no row does one SELECT decide between 404, 409 and 412.
final class ChestStore {
    typealias Completion<T> = (Result<T, PostgresError>) -> Void

    private let pool: PostgresPool
    private let prepared: Bool

    init(pool: PostgresPool, preparedStatements: Bool) {
        self.pool = pool
        self.prepared = preparedStatements
    }

    private func name(_ statement: String) -> String? { prepared ? statement : nil }

    static let columns = "biome_id, chest_id, type, array_to_json(coords)::text, state, version, activated_by"

    /// `$3` is the list of acceptable versions, or NULL for `If-Match: *`.
    static let activateSQL = """
        UPDATE treasure_chests
           SET state = 'activated', version = version + 1, activated_by = $4, activated_at = now()
         WHERE biome_id = $1 AND chest_id = $2 AND state = 'spawned'
           AND ($3::bigint[] IS NULL OR version = ANY ($3::bigint[]))
        RETURNING \(columns)
        """

    static let findSQL = "SELECT \(columns) FROM treasure_chests WHERE biome_id = $1 AND chest_id = $2"

    static let listSQL = """
        SELECT \(columns) FROM treasure_chests
         WHERE biome_id = $1 AND ($2::text IS NULL OR state = $2)
         ORDER BY chest_id LIMIT $3
        """

    func find(biome: BiomeID, chestID: String, _ completion: @escaping Completion<Chest?>) {
        pool.query(Self.findSQL, [String(biome.value), chestID], statementName: name("find_chest")) { result in
            completion(result.map { Self.chests(in: $0).first })
        }
    }

    func list(biome: BiomeID, state: Chest.State?, limit: Int, _ completion: @escaping Completion<[Chest]>) {
        pool.query(
            Self.listSQL, [String(biome.value), state?.rawValue, String(limit)], statementName: name("list_chests")
        ) { result in
            completion(result.map(Self.chests(in:)))
        }
    }

    func activate(_ request: ActivationRequest, _ completion: @escaping Completion<ActivationOutcome>) {
        let versions: String?
        switch request.condition {
        case .any:
            versions = nil
        case .tags:
            let candidates = request.condition.candidateVersions
            guard !candidates.isEmpty else {
                // Only weak or non-numeric tags: nothing can match, so just read for 404/412.
                decideWithoutUpdate(request, completion)
                return
            }
            versions = "{" + candidates.map(String.init).joined(separator: ",") + "}"
        }
        let parameters = [String(request.biome.value), request.chestID, versions, request.playerID]
        pool.query(Self.activateSQL, parameters, statementName: name("activate_chest")) { [self] result in
            switch result {
            case .failure(let error):
                completion(.failure(error))
            case .success(let rows):
                if let updated = Self.chests(in: rows).first {
                    completion(.success(.activated(updated)))
                } else {
                    decideWithoutUpdate(request, completion)
                }
            }
        }
    }

    private func decideWithoutUpdate(
        _ request: ActivationRequest, _ completion: @escaping Completion<ActivationOutcome>
    ) {
        find(biome: request.biome, chestID: request.chestID) { result in
            completion(result.map { ActivationOutcome.decide(request: request, updated: nil, current: $0) })
        }
    }

    /// Rows in `columns` order; a row that does not decode is skipped (the schema forbids it).
    static func chests(in result: PostgresResult) -> [Chest] {
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
