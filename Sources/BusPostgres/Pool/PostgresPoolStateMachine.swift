import DequeModule

/// The bookkeeping of one `PostgresPool`, free of I/O: which connections exist and are up,
/// which are idle or leased, and who waits for one in FIFO order until a deadline.
///
/// Invariants: never more than `maxConnections` connections, never more than `maxWaiters`
/// waiters, a waiter is either served, failed or expired exactly once, and a connection is
/// opened only for a waiter that no connecting connection will serve.
///
/// Shared leases (for single statements on pipelined connections): with `sharesPerConnection`
/// above 1, a connection leased for sharing takes up to that many shared leases at once, but an
/// exclusive lease (a transaction) only ever gets a connection nobody holds. Idle connections
/// are handed out first, so the load spreads over the connections before any is shared.
package struct PostgresPoolStateMachine: Sendable {
    /// Names one connection of the pool.
    package struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
        package let rawValue: Int
        package init(_ rawValue: Int) { self.rawValue = rawValue }
        package var description: String { "connection-\(rawValue)" }
    }

    /// Names one caller waiting for a connection.
    package struct WaiterID: Hashable, Sendable, CustomStringConvertible {
        package let rawValue: Int
        package init(_ rawValue: Int) { self.rawValue = rawValue }
        package var description: String { "waiter-\(rawValue)" }
    }

    /// What the pool knows about one connection's link to Postgres.
    package enum Health: Sendable, Equatable {
        /// Opening, or reconnecting at once after losing a working link: expected up soon.
        case starting
        case up
        /// Its last connect attempt failed; it retries after a backoff.
        case failed
    }

    /// The answer to a lease request.
    package enum LeaseAction: Sendable, Equatable {
        /// Hand this idle connection to the caller now.
        case lease(ConnectionID)
        /// Queue the caller as `WaiterID` (its deadline is tracked here); open connection
        /// `open` too when it is not nil.
        case wait(WaiterID, open: ConnectionID?)
        /// Refuse at once.
        case fail(PostgresError)
    }

    package enum Action: Sendable, Equatable {
        case none
        /// Hand the connection to the waiter (which has left the queue).
        case lease(ConnectionID, to: WaiterID)
        /// Fail these waiters (which have left the queue).
        case fail([WaiterID], PostgresError)
        /// Hand the connection to every one of these shared waiters (which have left the queue).
        case share(ConnectionID, with: [WaiterID])
    }

    /// The pool's counts, for metrics and readiness.
    package struct Statistics: Sendable, Equatable {
        /// Connections that exist (up, connecting or failed).
        package var connections: Int
        /// Connections that are up and leased to no one.
        package var idle: Int
        /// Connections leased to a caller.
        package var inUse: Int
        /// Callers queued for a connection.
        package var waiting: Int
        /// Connections whose link is up.
        package var up: Int

        package init(connections: Int, idle: Int, inUse: Int, waiting: Int, up: Int) {
            self.connections = connections
            self.idle = idle
            self.inUse = inUse
            self.waiting = waiting
            self.up = up
        }
    }

    private struct Slot {
        var health: Health = .starting
        /// Leases held on the connection: 0 or 1, or up to `sharesPerConnection` when `shared`.
        var holders = 0
        var shared = false
        var leased: Bool { holders > 0 }
    }

    private struct Waiter {
        let id: WaiterID
        let shared: Bool
        /// Monotonic nanoseconds after which the waiter fails with `.poolExhausted`.
        let deadline: UInt64
    }

    package let maxConnections: Int
    package let minConnections: Int
    package let maxWaiters: Int
    /// The most shared leases one connection holds at once (its pipeline depth).
    package let sharesPerConnection: Int

    private var slots: [ConnectionID: Slot] = [:]
    /// Idle connections; the most recently released last, and leased first, so that a lightly
    /// loaded pool keeps reusing the same warm connections.
    private var idle: [ConnectionID] = []
    private var waiters = Deque<Waiter>()
    private var nextConnection = 0
    private var nextWaiter = 0
    private var isClosed = false
    /// The latest outcome: true after a connect succeeded or the server answered a statement,
    /// false after a connect failed or a working link was lost.
    private var reachable = true

    package init(maxConnections: Int, minConnections: Int = 0, maxWaiters: Int, sharesPerConnection: Int = 1) {
        precondition(maxConnections >= 1, "a pool needs at least one connection")
        precondition((0...maxConnections).contains(minConnections), "minConnections must be 0...maxConnections")
        precondition(maxWaiters >= 0, "maxWaiters must not be negative")
        precondition(sharesPerConnection >= 1, "sharesPerConnection must be at least 1")
        self.sharesPerConnection = sharesPerConnection
        self.maxConnections = maxConnections
        self.minConnections = minConnections
        self.maxWaiters = maxWaiters
    }

    // MARK: - Reading

    package var statistics: Statistics {
        var inUse = 0
        var up = 0
        for slot in slots.values {
            if slot.leased { inUse += 1 }
            if slot.health == .up { up += 1 }
        }
        return Statistics(connections: slots.count, idle: idle.count, inUse: inUse, waiting: waiters.count, up: up)
    }

    /// The pool's latest outcome, for readiness: true once a connect succeeded or the server
    /// answered a statement, false as soon as a connect failed or a working link was lost (a
    /// statement in flight then fails, so a caller that got a 503 for it never sees a ready
    /// pool). Each new outcome replaces the last at once. A pool that has not tried yet counts
    /// as healthy; keep `minConnections` ≥ 1 for a readiness signal that means something.
    ///
    /// This is not what decides whether callers wait: new requests fail fast only while every
    /// connection is failing to connect.
    package var isHealthy: Bool { reachable }

    /// The earliest waiter deadline, for the one timer that expires waiters.
    package var nextDeadline: UInt64? { waiters.lazy.map(\.deadline).min() }

    package func health(of connection: ConnectionID) -> Health? { slots[connection]?.health }

    private var isDown: Bool {
        !slots.isEmpty && slots.values.allSatisfy { $0.health == .failed }
    }

    // MARK: - Events

    /// The pool starts: the connections to open to keep `minConnections` warm.
    package mutating func start() -> [ConnectionID] {
        var opened: [ConnectionID] = []
        while slots.count < minConnections { opened.append(addConnection()) }
        return opened
    }

    /// A caller wants a connection and will wait until `deadline` (monotonic nanoseconds);
    /// `shared`: for one statement, so a pipelined connection may serve others meanwhile.
    package mutating func leaseRequested(deadline: UInt64, shared: Bool = false) -> LeaseAction {
        if isClosed { return .fail(.unavailable) }
        let shared = shared && sharesPerConnection > 1
        // One hash of the connection per lease and per release (`index(forKey:)`, then the
        // slot in place): these run for every statement.
        if let connection = idle.popLast() {
            if let index = slots.index(forKey: connection) {
                slots.values[index].holders = 1
                slots.values[index].shared = shared
            }
            return .lease(connection)
        }
        // FIFO: nobody overtakes a waiter.
        if shared, waiters.isEmpty, let connection = leastSharedConnection() {
            slots[connection]?.holders += 1
            return .lease(connection)
        }
        // Every connection is failing to connect: waiting would only delay the same answer.
        if isDown { return .fail(.unavailable) }
        guard waiters.count < maxWaiters else { return .fail(.poolExhausted) }
        let waiter = WaiterID(nextWaiter)
        nextWaiter += 1
        waiters.append(Waiter(id: waiter, shared: shared, deadline: deadline))
        let starting = slots.values.count { $0.health == .starting }
        let open = slots.count < maxConnections && starting < waiters.count ? addConnection() : nil
        return .wait(waiter, open: open)
    }

    /// The connection's link came up (first connect or a reconnect).
    package mutating func connectionUp(_ connection: ConnectionID) -> Action {
        guard !isClosed, let slot = slots[connection] else { return .none }
        slots[connection]?.health = .up
        reachable = true
        return slot.leased ? .none : becameIdle(connection)
    }

    /// The connection lost a working link and is reconnecting at once.
    package mutating func connectionReconnecting(_ connection: ConnectionID) -> Action {
        guard !isClosed, slots[connection] != nil else { return .none }
        slots[connection]?.health = .starting
        reachable = false
        idle.removeAll { $0 == connection }
        return .none
    }

    /// A connect attempt of the connection failed; it retries after a backoff. When that leaves
    /// no connection up or starting, the waiters fail now rather than at their deadlines.
    package mutating func connectionFailed(_ connection: ConnectionID) -> Action {
        guard !isClosed, slots[connection] != nil else { return .none }
        slots[connection]?.health = .failed
        reachable = false
        idle.removeAll { $0 == connection }
        guard isDown, !waiters.isEmpty else { return .none }
        let failed = waiters.map(\.id)
        waiters.removeAll()
        return .fail(failed, .unavailable)
    }

    /// A failed connection is trying again now, with reason to expect success (another pool
    /// of the process just connected): it counts as starting, so callers wait for it.
    package mutating func connectionRetrying(_ connection: ConnectionID) {
        guard !isClosed, slots[connection]?.health == .failed else { return }
        slots[connection]?.health = .starting
    }

    /// The server answered a statement (with rows or with an error): Postgres is reachable.
    package mutating func statementAnswered() {
        guard !isClosed else { return }
        reachable = true
    }

    /// The lease holder (one of them, for a shared connection) gave the connection back.
    package mutating func connectionReleased(_ connection: ConnectionID) -> Action {
        guard !isClosed, let index = slots.index(forKey: connection) else { return .none }
        let slot = slots.values[index]
        guard slot.leased else { return .none }
        slots.values[index].holders -= 1
        if slot.holders > 1 {
            return slot.health == .up ? shareWithWaiters(connection) : .none
        }
        slots.values[index].shared = false
        return slot.health == .up ? becameIdle(connection) : .none
    }

    /// The timer for `nextDeadline` fired: every waiter whose deadline is at or before `now`
    /// fails with `.poolExhausted`.
    package mutating func waitersExpired(now: UInt64) -> Action {
        var expired: [WaiterID] = []
        waiters.removeAll { waiter in
            guard waiter.deadline <= now else { return false }
            expired.append(waiter.id)
            return true
        }
        return expired.isEmpty ? .none : .fail(expired, .poolExhausted)
    }

    /// The pool closes: every waiter fails with `.unavailable` and every connection is closed.
    /// Later events are ignored and later requests fail.
    package mutating func close() -> (waiters: [WaiterID], connections: [ConnectionID]) {
        guard !isClosed else { return ([], []) }
        isClosed = true
        let failed = waiters.map(\.id)
        let connections = slots.keys.sorted { $0.rawValue < $1.rawValue }
        waiters.removeAll()
        idle.removeAll()
        slots.removeAll()
        return (failed, connections)
    }

    // MARK: - Helpers

    private mutating func addConnection() -> ConnectionID {
        let connection = ConnectionID(nextConnection)
        nextConnection += 1
        slots[connection] = Slot()
        return connection
    }

    private mutating func becameIdle(_ connection: ConnectionID) -> Action {
        if let waiter = waiters.first, waiter.shared {
            slots[connection]?.shared = true
            return shareWithWaiters(connection)
        }
        if let waiter = waiters.popFirst() {
            slots[connection]?.holders = 1
            return .lease(connection, to: waiter.id)
        }
        idle.append(connection)
        return .none
    }

    /// Hands a shared connection's free shares to the shared waiters at the head of the queue.
    private mutating func shareWithWaiters(_ connection: ConnectionID) -> Action {
        var served: [WaiterID] = []
        while let slot = slots[connection], slot.holders < sharesPerConnection, let waiter = waiters.first,
            waiter.shared
        {
            waiters.removeFirst()
            slots[connection]?.holders += 1
            served.append(waiter.id)
        }
        return served.isEmpty ? .none : .share(connection, with: served)
    }

    /// The up, shared connection with the fewest holders and a free share, if any.
    private func leastSharedConnection() -> ConnectionID? {
        var best: (id: ConnectionID, holders: Int)?
        for (id, slot) in slots where slot.health == .up && slot.shared && slot.holders < sharesPerConnection {
            if best.map({ slot.holders < $0.holders }) ?? true { best = (id, slot.holders) }
        }
        return best?.id
    }
}
