import BusChests
import BusDomain
import BusLoop
import BusPostgres

/// The default handler: materializes each spawn as a chest row, idempotently.
///
/// Entries handed over in the same loop iteration are written with one multi-row
/// `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING`; if Postgres refuses that statement
/// for good, each entry of the batch is retried on its own so that one poison entry cannot fail
/// its neighbours. A transient failure (`PostgresError.isTransient`: unavailable, timed out,
/// or a SQLSTATE such as `57014` or `40P01`) hunts for nothing: every entry of the batch fails
/// as transient, and the consumer retries it after the backoff without counting a delivery.
/// Entries whose fields do not parse fail alone, before any batch.
package final class PostgresChestHandler: DeliveryHandler {
    private typealias Completion = (Result<Void, HandlerFailure>) -> Void

    private let loop: EventLoop
    private let pool: PostgresPool
    private var batch: [(record: SpawnRecord, completion: Completion)] = []
    private lazy var flushTimer = LoopTimer(loop: loop) { [unowned self] in self.flush() }
    /// Largest batch per statement.
    package var maxBatch = 256
    /// Prepare the INSERTs once per connection (off behind a pgbouncer older than 1.21).
    private let preparedStatements: Bool

    package init(loop: EventLoop, pool: PostgresPool, preparedStatements: Bool = true) {
        self.loop = loop
        self.pool = pool
        self.preparedStatements = preparedStatements
    }

    package func handle(_ entry: Delivery, completion: @escaping (Result<Void, HandlerFailure>) -> Void) {
        let record: SpawnRecord
        do {
            record = try SpawnRecord(biome: entry.key.biome, streamID: entry.key.id, fields: entry.fields)
        } catch {
            completion(.failure(HandlerFailure("unparseable entry: \(error)")))
            return
        }
        batch.append((record, completion))
        if batch.count >= maxBatch {
            flush()
        } else if batch.count == 1 {
            // Flush at the end of this loop iteration, gathering what else arrives meanwhile.
            flushTimer.schedule(after: .zero)
        }
    }

    private func flush() {
        flushTimer.cancel()
        guard !batch.isEmpty else { return }
        let items = batch
        batch = []
        if items.count == 1 {
            insertOne(items[0].record, items[0].completion)
            return
        }
        let parameters = ChestStatements.insertBatchParameters(items.map(\.record.newChest))
        pool.query(ChestStatements.insertBatch, parameters, prepared: preparedStatements) { [self] result in
            switch result {
            case .success:
                for item in items { item.completion(.success(())) }
            case .failure(let error) where error.isTransient:
                for item in items { item.completion(.failure(Self.failure(error))) }
            case .failure:
                // Something in the batch was refused: find it by writing each entry alone.
                for item in items { insertOne(item.record, item.completion) }
            }
        }
    }

    private func insertOne(_ record: SpawnRecord, _ completion: @escaping Completion) {
        let parameters = ChestStatements.insertOneParameters(record.newChest)
        pool.query(ChestStatements.insertOne, parameters, prepared: preparedStatements) { result in
            switch result {
            case .success: completion(.success(()))
            case .failure(let error): completion(.failure(Self.failure(error)))
            }
        }
    }

    private static func failure(_ error: PostgresError) -> HandlerFailure {
        HandlerFailure("database: \(error)", transient: error.isTransient)
    }
}
