import BusChests
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

    func find(biome: BiomeID, chestID: String, _ completion: @escaping Completion<Chest?>) {
        let parameters = ChestStatements.findParameters(biome: biome, chestID: chestID)
        pool.query(ChestStatements.find, parameters, prepared: prepared) { result in
            completion(result.map { ChestStatements.chests(in: $0).first })
        }
    }

    func list(biome: BiomeID, state: Chest.State?, limit: Int, _ completion: @escaping Completion<[Chest]>) {
        let parameters = ChestStatements.listParameters(biome: biome, state: state, limit: limit)
        pool.query(ChestStatements.list, parameters, prepared: prepared) { result in
            completion(result.map(ChestStatements.chests(in:)))
        }
    }

    func activate(_ request: ActivationRequest, _ completion: @escaping Completion<ActivationOutcome>) {
        let versions: [Int64]?
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
            versions = candidates
        }
        let (statement, parameters) = ChestStatements.activation(
            biome: request.biome, chestID: request.chestID, versions: versions, playerID: request.playerID)
        pool.query(statement, parameters, prepared: prepared) { [self] result in
            switch result {
            case .failure(let error):
                completion(.failure(error))
            case .success(let rows):
                if let updated = ChestStatements.chests(in: rows).first {
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
}
