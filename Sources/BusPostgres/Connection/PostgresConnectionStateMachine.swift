/// The life cycle of one Postgres connection, free of I/O.
///
/// `PostgresConnection` feeds it events (the connect finished or failed, a query was asked
/// for, finished or timed out, the socket broke) and performs the actions it returns. It
/// enforces libpq's rule of one query in flight per connection outside pipeline mode, and at
/// most `pipelineDepth` in flight in pipeline mode.
package struct PostgresConnectionStateMachine: Sendable {
    package enum State: Sendable, Equatable {
        case idle
        /// `PQconnectStart`/`PQconnectPoll` in progress (TCP, TLS negotiation, startup, auth).
        case connecting(attempt: Int)
        /// Connected, no query in flight.
        case ready
        /// Connected, one query in flight (in pipeline mode: `inFlight` of them, at least one).
        case executing
        /// Waiting for the backoff to pass before connecting again.
        case waitingToReconnect(attempt: Int)
        case closed
    }

    package enum Action: Sendable, Equatable {
        case none
        /// Start a connection attempt and arm the connect timer.
        case connect
        /// Announce that queries are accepted now.
        case becameReady
        /// Send the requested query and arm its timer.
        case sendQuery
        /// Refuse the requested query without touching the connection.
        case rejectQuery(PostgresError)
        /// Deliver the finished query's outcome; the connection is ready again.
        case completeQuery
        /// Drop the connection, fail the query in flight (if any) with `failing`, and connect
        /// again after the backoff for `attempt` (0 = at once). `wasReady` says whether a working
        /// connection was lost, rather than a connect attempt failing.
        case reconnect(attempt: Int, wasReady: Bool, failing: PostgresError?)
        /// Drop the connection for good, failing the query in flight (if any) with `failing`.
        case tearDown(failing: PostgresError?)
    }

    package private(set) var state: State = .idle
    /// The most queries in flight at once: 1 outside pipeline mode.
    package let pipelineDepth: Int
    /// Queries sent and not yet finished (0 unless `executing`).
    package private(set) var inFlight = 0

    package init(pipelineDepth: Int = 1) {
        precondition(pipelineDepth >= 1, "a connection runs at least one query at a time")
        self.pipelineDepth = pipelineDepth
    }

    /// True while connected with nothing in flight.
    package var isReady: Bool { state == .ready }

    /// True while a query would be sent at once (connected, fewer than `pipelineDepth` in flight).
    package var hasCapacity: Bool { isConnected && inFlight < pipelineDepth }

    /// True while connected, whether or not a query is in flight.
    package var isConnected: Bool { state == .ready || state == .executing }

    package mutating func start() -> Action {
        guard case .idle = state else { return .none }
        state = .connecting(attempt: 1)
        return .connect
    }

    /// `PQconnectPoll` returned `PGRES_POLLING_OK`.
    package mutating func connectSucceeded() -> Action {
        guard case .connecting = state else { return .none }
        state = .ready
        return .becameReady
    }

    /// `PQconnectStart` or `PQconnectPoll` failed, or the connect timer fired.
    package mutating func connectFailed() -> Action {
        guard case .connecting(let attempt) = state else { return .none }
        state = .waitingToReconnect(attempt: attempt + 1)
        return .reconnect(attempt: attempt, wasReady: false, failing: nil)
    }

    /// A caller wants to run a query.
    package mutating func queryRequested() -> Action {
        switch state {
        case .ready:
            state = .executing
            inFlight = 1
            return .sendQuery
        case .executing where inFlight < pipelineDepth:
            inFlight += 1
            return .sendQuery
        case .executing, .idle, .connecting, .waitingToReconnect, .closed:
            // One query too many (outside pipeline mode, a second one) is a caller bug; refusing
            // it keeps the connection's protocol state intact.
            return .rejectQuery(.unavailable)
        }
    }

    /// The oldest query in flight finished (outside pipeline mode `PQgetResult` returned NULL;
    /// in it, its `PGRES_PIPELINE_SYNC` arrived), and the connection is still good.
    package mutating func queryFinished() -> Action {
        guard state == .executing else { return .none }
        inFlight -= 1
        if inFlight == 0 { state = .ready }
        return .completeQuery
    }

    /// The timer of a query in flight fired (in pipeline mode every query in flight fails with
    /// it: they share the session that is dropped). libpq's cancel (`PQcancel`) blocks the thread on a new
    /// connection, so the connection is dropped instead and opened again at once.
    package mutating func queryTimedOut() -> Action {
        guard state == .executing else { return .none }
        state = .waitingToReconnect(attempt: 1)
        inFlight = 0
        return .reconnect(attempt: 0, wasReady: true, failing: .timedOut)
    }

    /// The socket broke or libpq reported `CONNECTION_BAD` on a connected connection (or while
    /// connecting, where it counts as a failed attempt).
    package mutating func connectionLost() -> Action {
        switch state {
        case .ready:
            state = .waitingToReconnect(attempt: 1)
            return .reconnect(attempt: 0, wasReady: true, failing: nil)
        case .executing:
            state = .waitingToReconnect(attempt: 1)
            inFlight = 0
            return .reconnect(attempt: 0, wasReady: true, failing: .connectionLost)
        case .connecting:
            return connectFailed()
        case .idle, .waitingToReconnect, .closed:
            return .none
        }
    }

    package mutating func reconnectTimerFired() -> Action {
        guard case .waitingToReconnect(let attempt) = state else { return .none }
        state = .connecting(attempt: attempt)
        return .connect
    }

    package mutating func close() -> Action {
        switch state {
        case .closed:
            return .none
        case .executing:
            state = .closed
            inFlight = 0
            return .tearDown(failing: .unavailable)
        case .idle, .connecting, .ready, .waitingToReconnect:
            state = .closed
            return .tearDown(failing: nil)
        }
    }
}
