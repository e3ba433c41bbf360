/// One pooled connection lent to one caller, for a sequence of statements such as a
/// transaction (`BEGIN` … `COMMIT`).
///
/// The connection goes back to the pool exactly once: at `release()` or when the lease is
/// dropped, whichever comes first, and never while a statement of the lease still runs (a
/// statement in flight keeps the lease alive and delays the release until it completes).
/// Use it only on the pool's loop.
package final class PostgresLease {
    private let pool: PostgresPool
    private let id: PostgresPool.ConnectionID
    private let connection: PostgresConnection
    /// The connection's session when leased. If it reconnects meanwhile, the session (and any
    /// transaction begun on it) is gone, and later statements must not run on a fresh one.
    private let generation: Int
    private var isReleased = false
    /// True while a statement of this lease runs; a release waits for it to end, so the pool
    /// never hands a busy connection to the next caller.
    private var isRunning = false
    private var releaseWhenDone = false

    init(pool: PostgresPool, id: PostgresPool.ConnectionID, connection: PostgresConnection) {
        self.pool = pool
        self.id = id
        self.connection = connection
        self.generation = connection.generation
    }

    deinit {
        release()
    }

    /// Runs one statement on the leased connection; see `PostgresConnection.query`.
    ///
    /// One statement at a time: chain the next one from the completion. Fails with
    /// `.connectionLost` when the connection's session was lost since the lease began (a
    /// `BEGIN` on it is gone), and with `.unavailable` after `release()` or while another
    /// statement of this lease is still running.
    package func query(
        _ sql: String, _ parameters: [String?] = [], statementName: String? = nil, timeout: Duration? = nil,
        _ completion: @escaping PostgresConnection.Completion
    ) {
        pool.loop.assertInLoop()
        guard !isReleased else {
            completion(.failure(.unavailable))
            return
        }
        guard connection.generation == generation else {
            completion(.failure(.connectionLost))
            return
        }
        guard !isRunning else {
            // libpq allows one statement in flight per connection.
            completion(.failure(.unavailable))
            return
        }
        isRunning = true
        // The closure holds self, so a lease dropped by its caller lives until its statement ends.
        connection.query(sql, parameters, statementName: statementName, timeout: timeout) { result in
            self.isRunning = false
            self.pool.statementCompleted(result)
            if self.releaseWhenDone {
                self.releaseWhenDone = false
                self.pool.release(self.id, self.connection)
            }
            completion(result)
        }
    }

    /// Returns the connection to the pool; later calls do nothing. While a statement of this
    /// lease runs, the connection goes back when it ends (its completion still runs).
    package func release() {
        guard !isReleased else { return }
        isReleased = true
        if isRunning {
            releaseWhenDone = true
        } else {
            pool.release(id, connection)
        }
    }
}
