/// The life cycle of one Redis connection, free of I/O.
///
/// `RedisConnection` feeds it events (a connect finished, a handshake answered, a command
/// timed out, the socket dropped) and performs the actions it returns.
package struct RedisConnectionStateMachine: Sendable {
    package enum State: Sendable, Equatable {
        case idle
        /// TCP connect in progress.
        case connecting(attempt: Int)
        /// Connected; AUTH/SELECT/PING sent, waiting for their replies.
        case handshaking(attempt: Int)
        /// Commands are accepted.
        case ready
        /// Waiting for the backoff to pass before connecting again.
        case waitingToReconnect(attempt: Int)
        case closed
    }

    package enum Action: Sendable, Equatable {
        case none
        case connect
        case sendHandshake
        /// Announce that commands are accepted now.
        case becameReady
        /// Free the current connection (if any) and connect again after the backoff for
        /// `attempt`; `wasReady` says whether a working connection was lost.
        case reconnect(attempt: Int, wasReady: Bool)
        /// Free the current connection for good.
        case tearDown
    }

    package private(set) var state: State = .idle

    package init() {}

    package var isReady: Bool { state == .ready }

    /// True during a first attempt to connect (at start, after a working connection was lost,
    /// or after `retryNow()`): commands wait for it instead of failing, since it usually
    /// succeeds within milliseconds. Later attempts follow failures, so commands fail fast.
    package var holdsCommands: Bool {
        switch state {
        case .connecting(attempt: 1), .handshaking(attempt: 1): true
        default: false
        }
    }

    package mutating func start() -> Action {
        guard case .idle = state else { return .none }
        state = .connecting(attempt: 1)
        return .connect
    }

    package mutating func connected() -> Action {
        guard case .connecting(let attempt) = state else { return .none }
        state = .handshaking(attempt: attempt)
        return .sendHandshake
    }

    package mutating func handshakeSucceeded() -> Action {
        guard case .handshaking = state else { return .none }
        state = .ready
        return .becameReady
    }

    /// The connect or handshake failed, a command timed out, or the socket dropped.
    package mutating func failed() -> Action {
        switch state {
        case .connecting(let attempt), .handshaking(let attempt):
            state = .waitingToReconnect(attempt: attempt + 1)
            return .reconnect(attempt: attempt, wasReady: false)
        case .ready:
            state = .waitingToReconnect(attempt: 1)
            return .reconnect(attempt: 0, wasReady: true)
        case .idle, .waitingToReconnect, .closed:
            return .none
        }
    }

    package mutating func reconnectTimerFired() -> Action {
        guard case .waitingToReconnect(let attempt) = state else { return .none }
        state = .connecting(attempt: attempt)
        return .connect
    }

    /// Connects at once, as a first attempt, instead of waiting out the backoff (another
    /// connection to the same server just succeeded).
    package mutating func retryNow() -> Action {
        guard case .waitingToReconnect = state else { return .none }
        state = .connecting(attempt: 1)
        return .connect
    }

    package mutating func close() -> Action {
        if state == .closed { return .none }
        state = .closed
        return .tearDown
    }
}
