import BusLoop

/// How many connections a `PostgresPool` keeps and how long callers wait for one.
package struct PostgresPoolConfiguration: Sendable, Equatable {
    package var connection: PostgresConfiguration
    /// The most connections this pool opens. With one pool per loop, give each its share of
    /// the process budget (`PostgresPool.shares(total:loops:)`).
    package var maxConnections: Int
    /// Connections opened at `start()` and kept (they reconnect by themselves); more are
    /// opened on demand up to `maxConnections` and then kept too.
    package var minConnections = 0
    /// The most callers queued for a connection; more fail at once with `.poolExhausted`.
    package var maxWaiters = 1024
    /// How long a caller waits in the queue by default before failing with `.poolExhausted`.
    package var leaseTimeout: Duration = .seconds(1)

    package init(connection: PostgresConfiguration, maxConnections: Int = 4) {
        self.connection = connection
        self.maxConnections = maxConnections
    }
}

/// A bounded set of `PostgresConnection`s on one event loop, lent out one caller at a time.
///
/// Callers either run one statement (`query`) or lease a connection for several
/// (`withConnection`, for a transaction). When every connection is busy, callers queue in FIFO
/// order until their lease deadline; the pool never opens more than `maxConnections`. When
/// every connection fails to connect (Postgres is down), requests fail at once with
/// `.unavailable` instead of waiting, and the connections keep retrying with backoff, so the
/// same pool works again once Postgres is back.
///
/// Use it only on its loop's thread (`start`, `query`, `withConnection`, the statistics, `close`);
/// completions run on that thread, possibly synchronously inside the call that asked. Call
/// `close()` before dropping the pool.
package final class PostgresPool {
    package typealias ConnectionID = PostgresPoolStateMachine.ConnectionID
    package typealias Statistics = PostgresPoolStateMachine.Statistics

    package let loop: EventLoop
    package let configuration: PostgresPoolConfiguration

    /// Called on the loop with every server notice, from any connection.
    package var onNotice: ((String) -> Void)?
    /// Called on the loop when a connection attempt fails, with libpq's reason.
    package var onConnectError: ((String) -> Void)?
    /// Called on the loop with every outcome that says whether Postgres answers, the moment it
    /// happens and before the caller of the statement concerned hears back: true after a
    /// connect succeeded and after every statement the server answered; false after a connect
    /// failed, a working link was lost, or a lease was refused because the pool is down. For a
    /// readiness signal shared by several loops (each
    /// new outcome replaces the last); it runs once per statement, so keep it cheap.
    package var onOutcome: ((_ reachable: Bool) -> Void)?

    private var machine: PostgresPoolStateMachine
    private var connections: [ConnectionID: PostgresConnection] = [:]
    /// Waiting callers, by waiter: each gets the connection it was given, or why not.
    private var waiters: [PostgresPoolStateMachine.WaiterID: (Result<ConnectionID, PostgresError>) -> Void] = [:]
    private var armedDeadline: UInt64?
    private var isClosed = false

    private lazy var waiterTimer = LoopTimer(loop: loop) { [unowned self] in self.expireWaiters() }

    package init(loop: EventLoop, configuration: PostgresPoolConfiguration) {
        self.loop = loop
        self.configuration = configuration
        machine = PostgresPoolStateMachine(
            maxConnections: configuration.maxConnections, minConnections: configuration.minConnections,
            maxWaiters: configuration.maxWaiters, sharesPerConnection: configuration.connection.pipelineDepth)
    }

    deinit {
        assert(isClosed, "PostgresPool dropped without close()")
    }

    /// Opens the `minConnections` warm connections. Optional when `minConnections` is 0.
    package func start() {
        loop.assertInLoop()
        for id in machine.start() { open(id) }
    }

    /// Connection counts for metrics.
    package var statistics: Statistics {
        loop.assertInLoop()
        return machine.statistics
    }

    /// The pool's latest outcome (see `PostgresPoolStateMachine.isHealthy`): false from a failed
    /// connect or a lost link until the next connect or answered statement. True for a pool
    /// that has not opened any connection yet; with `minConnections` ≥ 1 this is a real
    /// readiness signal.
    package var isHealthy: Bool {
        loop.assertInLoop()
        return machine.isHealthy
    }

    /// The reason of the most recent failed connect, if a connection is failing now.
    package var lastError: String? {
        loop.assertInLoop()
        return connections.values.lazy.compactMap(\.lastError).first
    }

    /// Runs one statement on a leased connection and returns the connection.
    ///
    /// - Parameters:
    ///   - parameters: `$1`, `$2`, … in Postgres text format; nil is NULL.
    ///   - statementName: prepare the statement under this name once per connection; see
    ///     `PostgresConnection.query`.
    ///   - timeout: how long the statement may run once it has a connection
    ///     (`configuration.connection.queryTimeout` when nil); expiry gives `.timedOut`.
    ///   - leaseTimeout: how long to wait for a connection (`configuration.leaseTimeout` when
    ///     nil); expiry gives `.poolExhausted`.
    package func query(
        _ sql: String, _ parameters: [String?] = [], statementName: String? = nil, timeout: Duration? = nil,
        leaseTimeout: Duration? = nil, _ completion: @escaping PostgresConnection.Completion
    ) {
        // Shared: on pipelined connections (`pipelineDepth` > 1) other statements may run on the
        // same connection meanwhile; without pipelining the lease is exclusive all the same.
        // No `PostgresLease` and, with a connection free, no closure to wait with: this runs for
        // every statement. The connection goes back when the statement completes.
        let (action, deadline) = requestLease(shared: true, leaseTimeout: leaseTimeout)
        switch action {
        case .lease(let id):
            run(sql, parameters, statementName: statementName, timeout: timeout, on: id, completion)
        case .wait(let waiter, let open):
            wait(waiter, deadline: deadline, opening: open) { [self] acquired in
                switch acquired {
                case .success(let id):
                    run(sql, parameters, statementName: statementName, timeout: timeout, on: id, completion)
                case .failure(let error):
                    completion(.failure(error))
                }
            }
        case .fail(let error):
            completion(.failure(refusedAtOnce(error)))
        }
    }

    /// Leases one connection for several statements, such as a transaction.
    ///
    /// `body` gets the lease (or why there is none) once a connection is free. The connection
    /// returns to the pool when the lease is released or dropped, whichever comes first; a
    /// lease dropped inside a transaction is rolled back before anyone else gets it.
    package func withConnection(
        leaseTimeout: Duration? = nil, _ body: @escaping (Result<PostgresLease, PostgresError>) -> Void
    ) {
        acquire(shared: false, leaseTimeout: leaseTimeout) { [self] acquired in body(acquired.map(lease)) }
    }

    /// Calls `body` with a connection (at once when one is free, else when one is released to
    /// this caller), or with why there is none.
    private func acquire(
        shared: Bool, leaseTimeout: Duration?, _ body: @escaping (Result<ConnectionID, PostgresError>) -> Void
    ) {
        let (action, deadline) = requestLease(shared: shared, leaseTimeout: leaseTimeout)
        switch action {
        case .lease(let id): body(.success(id))
        case .wait(let waiter, let open): wait(waiter, deadline: deadline, opening: open, body)
        case .fail(let error): body(.failure(refusedAtOnce(error)))
        }
    }

    /// A lease the machine refused without waiting. A pool that is down says so before it
    /// answers: another loop's pool may have published a success since this one went down,
    /// and the outcome published last is what readiness reports while this answer goes out.
    private func refusedAtOnce(_ error: PostgresError) -> PostgresError {
        if case .unavailable = error, !isClosed { onOutcome?(false) }
        return error
    }

    /// Asks the state machine for a connection; also returns the caller's lease deadline.
    private func requestLease(
        shared: Bool, leaseTimeout: Duration?
    ) -> (PostgresPoolStateMachine.LeaseAction, deadline: UInt64) {
        loop.assertInLoop()
        let deadline = Clocks.monotonicNanoseconds() &+ (leaseTimeout ?? configuration.leaseTimeout).nanoseconds
        return (machine.leaseRequested(deadline: deadline, shared: shared), deadline)
    }

    /// Queues `body` as `waiter` until the machine gives it a connection or its deadline passes.
    private func wait(
        _ waiter: PostgresPoolStateMachine.WaiterID, deadline: UInt64, opening open: ConnectionID?,
        _ body: @escaping (Result<ConnectionID, PostgresError>) -> Void
    ) {
        waiters[waiter] = body
        armWaiterTimer(for: deadline)
        if let open { self.open(open) }
    }

    /// One statement on connection `id`, leased to it: the connection goes back to the pool as
    /// the statement completes, before its caller hears back, so the caller's next statement
    /// can reuse it at once (the order `PostgresLease` keeps too).
    private func run(
        _ sql: String, _ parameters: [String?], statementName: String?, timeout: Duration?, on id: ConnectionID,
        _ completion: @escaping PostgresConnection.Completion
    ) {
        guard let connection = connections[id] else {
            preconditionFailure("the pool leased \(id), which it does not have")
        }
        connection.query(sql, parameters, statementName: statementName, timeout: timeout) { [self] result in
            statementCompleted(result)
            release(id, connection)
            completion(result)
        }
    }

    /// Closes every connection and fails every waiter with `.unavailable`. Statements in flight
    /// fail with `.unavailable`; leases still held find their connection closed.
    package func close() {
        loop.assertInLoop()
        guard !isClosed else { return }
        isClosed = true
        waiterTimer.cancel()
        let (failed, closing) = machine.close()
        for id in closing { connections.removeValue(forKey: id)?.close() }
        for waiter in failed { waiters.removeValue(forKey: waiter)?(.failure(.unavailable)) }
    }

    // MARK: - Leases

    private func lease(_ id: ConnectionID) -> PostgresLease {
        guard let connection = connections[id] else {
            preconditionFailure("the pool leased \(id), which it does not have")
        }
        return PostgresLease(pool: self, id: id, connection: connection)
    }

    /// Called by the lease when one of its statements completed, before its caller hears back.
    func statementCompleted(_ result: Result<PostgresResult, PostgresError>) {
        switch result {
        case .success:
            break
        case .failure(.server(let sqlState, _)) where !sqlState.hasPrefix("57P") && !sqlState.hasPrefix("08"):
            // An answer, even an error, means the server is there; a shutdown or connection
            // error does not (the link-lost event that follows says so).
            break
        case .failure:
            return
        }
        machine.statementAnswered()
        onOutcome?(true)
    }

    /// Connections waiting out their reconnect backoff try again now. Call it when there is
    /// news that Postgres is back (another pool of the process just connected), so this pool
    /// does not keep failing requests for up to a backoff's length.
    package func retryFailedConnectionsNow() {
        loop.assertInLoop()
        guard !isClosed else { return }
        for (id, connection) in connections where connection.reconnectNow() {
            // Expected up in a moment: callers wait for it (up to their lease deadline) instead
            // of failing fast as they do while every connection is failing.
            machine.connectionRetrying(id)
        }
    }

    /// Called exactly once per lease, by the lease.
    func release(_ id: ConnectionID, _ connection: PostgresConnection) {
        loop.assertInLoop()
        guard !isClosed else { return }
        if connection.isReady && connection.isInTransaction {
            // Whoever held the lease left a transaction open (or failed): end it before the
            // session serves someone else. A ROLLBACK that fails recycles the connection.
            connection.query("ROLLBACK") { [weak self] _ in
                guard let self else { return }
                self.perform(self.machine.connectionReleased(id))
            }
            return
        }
        perform(machine.connectionReleased(id))
    }

    // MARK: - Acting on the state machine

    private func perform(_ action: PostgresPoolStateMachine.Action) {
        switch action {
        case .none:
            break
        case .lease(let id, let waiter):
            waiters.removeValue(forKey: waiter)?(.success(id))
        case .fail(let failed, let error):
            for waiter in failed { waiters.removeValue(forKey: waiter)?(.failure(error)) }
        case .share(let id, let sharing):
            for waiter in sharing { waiters.removeValue(forKey: waiter)?(.success(id)) }
        }
    }

    private func open(_ id: ConnectionID) {
        let connection = PostgresConnection(loop: loop, configuration: configuration.connection)
        connection.onNotice = { [weak self] notice in self?.onNotice?(notice) }
        connection.onLinkEvent = { [weak self, unowned connection] event in
            guard let self else { return }
            switch event {
            case .up:
                let action = self.machine.connectionUp(id)
                self.onOutcome?(true)
                self.perform(action)
            case .reconnecting:
                self.perform(self.machine.connectionReconnecting(id))
                self.onOutcome?(false)
            case .connectFailed:
                self.onConnectError?(connection.lastError ?? "connect failed")
                let action = self.machine.connectionFailed(id)
                // Published before the waiters this fails are answered.
                self.onOutcome?(false)
                self.perform(action)
            case .closed:
                break
            }
        }
        connections[id] = connection
        connection.start()
    }

    // MARK: - Waiter deadlines

    /// One timer serves every waiter: it is armed for the earliest deadline and re-armed for the
    /// next one when it fires.
    private func armWaiterTimer(for deadline: UInt64) {
        if let armedDeadline, armedDeadline <= deadline { return }
        armedDeadline = deadline
        let now = Clocks.monotonicNanoseconds()
        waiterTimer.schedule(after: .nanoseconds(Int64(deadline > now ? deadline - now : 0)))
    }

    private func expireWaiters() {
        armedDeadline = nil
        perform(machine.waitersExpired(now: Clocks.monotonicNanoseconds()))
        if let next = machine.nextDeadline { armWaiterTimer(for: next) }
    }
}

extension Duration {
    /// Whole nanoseconds, clamped at zero.
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}
