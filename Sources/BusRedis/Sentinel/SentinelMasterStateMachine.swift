/// Finding and following the master of a Sentinel-monitored group, free of I/O.
///
/// resolve (ask each Sentinel in turn) → verify (connect, `ROLE` says master) → serve → lost
/// (connection lost, `READONLY`/`MASTERDOWN`, `+switch-master`) → resolve … A round that finds
/// no verified master waits out a backoff before the next; a `+switch-master` announcement
/// skips the Sentinels and verifies the announced master at once.
///
/// `SentinelMaster` feeds it events and performs the actions it returns. It is total: an event
/// the driver can never deliver in a state (a Sentinel answer while serving, say) is a bug in
/// the driver, asserted in debug builds and ignored in release ones; events that may legitimately
/// arrive late (an announcement after `close()`) are ignored in every build.
package struct SentinelMasterStateMachine: Sendable {
    package enum State: Sendable, Equatable {
        case idle
        /// Asking Sentinel `sentinel`, the `asked`-th of this round; `failedRounds` rounds found no
        /// master since one was last served.
        case resolving(sentinel: Int, asked: Int, failedRounds: Int)
        /// Connecting to `candidate` and asking its `ROLE`.
        case verifying(candidate: RedisServerAddress, failedRounds: Int)
        /// `master` answered `ROLE` as master; commands go there.
        case serving(master: RedisServerAddress)
        /// No master found in the last round; the next starts when the backoff for
        /// `failedRounds` has passed (or at once on `+switch-master`).
        case waitingForNextRound(failedRounds: Int)
        case closed
    }

    package enum Action: Sendable, Equatable {
        case none
        /// Drop any master connection and ask Sentinel `index` for the master's address.
        case askSentinel(index: Int)
        /// Drop any master connection, connect to `candidate` and ask its `ROLE`.
        case verify(candidate: RedisServerAddress)
        /// Announce `master` as usable and keep checking its role.
        case serve(master: RedisServerAddress)
        /// Drop any master connection; start the next round after the backoff for `failedRounds`.
        case waitForNextRound(failedRounds: Int)
        /// Drop every connection for good.
        case tearDown
    }

    package let sentinelCount: Int
    package private(set) var state: State = .idle
    /// Where a round starts: the Sentinel that last answered (the Sentinel client spec's
    /// "move the first that answers to the front"), so a dead first Sentinel costs its
    /// timeout once, not on every round.
    package private(set) var preferredSentinel = 0

    package init(sentinelCount: Int) {
        precondition(sentinelCount > 0, "a Sentinel master needs at least one Sentinel")
        self.sentinelCount = sentinelCount
    }

    /// The master commands may go to: set only while serving.
    package var master: RedisServerAddress? {
        if case .serving(let master) = state { return master }
        return nil
    }

    package mutating func start() -> Action {
        guard case .idle = state else { return illegal("start", ignoredWhenClosed: false) }
        return startRound(failedRounds: 0)
    }

    /// The Sentinel being asked named `master`.
    package mutating func sentinelAnswered(master: RedisServerAddress) -> Action {
        guard case .resolving(let sentinel, _, let failedRounds) = state else { return illegal("sentinelAnswered") }
        preferredSentinel = sentinel
        state = .verifying(candidate: master, failedRounds: failedRounds)
        return .verify(candidate: master)
    }

    /// The Sentinel being asked did not answer in time, could not be reached, answered an
    /// error, or does not know the master: the next one is asked, or the round has failed.
    package mutating func sentinelFailed() -> Action {
        guard case .resolving(let sentinel, let asked, let failedRounds) = state else {
            return illegal("sentinelFailed")
        }
        guard asked < sentinelCount else { return waitForNextRound(failedRounds: failedRounds + 1) }
        let next = (sentinel + 1) % sentinelCount
        state = .resolving(sentinel: next, asked: asked + 1, failedRounds: failedRounds)
        return .askSentinel(index: next)
    }

    /// The candidate answered `ROLE` as master.
    package mutating func verified() -> Action {
        guard case .verifying(let candidate, _) = state else { return illegal("verified") }
        state = .serving(master: candidate)
        return .serve(master: candidate)
    }

    /// The candidate could not be reached in time or is not a master (the Sentinels' view is
    /// stale mid-failover): wait a little, then ask again, as the Sentinel client spec says.
    package mutating func verificationFailed() -> Action {
        guard case .verifying(_, let failedRounds) = state else { return illegal("verificationFailed") }
        return waitForNextRound(failedRounds: failedRounds + 1)
    }

    /// The master being served is gone or refuses writes: its connection dropped, its role
    /// check failed, or a command got `READONLY`/`MASTERDOWN`. Resolve again at once.
    package mutating func masterLost() -> Action {
        guard case .serving = state else { return illegal("masterLost") }
        return startRound(failedRounds: 0)
    }

    /// A Sentinel announced `newMaster` (`+switch-master` for this master name).
    package mutating func switchAnnounced(newMaster: RedisServerAddress) -> Action {
        switch state {
        case .idle:
            return illegal("switchAnnounced")
        case .closed:
            return .none
        case .serving(let master) where master == newMaster, .verifying(let master, _) where master == newMaster:
            return .none
        case .serving:
            state = .verifying(candidate: newMaster, failedRounds: 0)
            return .verify(candidate: newMaster)
        case .verifying(_, let failedRounds), .resolving(_, _, let failedRounds),
            .waitingForNextRound(let failedRounds):
            state = .verifying(candidate: newMaster, failedRounds: failedRounds)
            return .verify(candidate: newMaster)
        }
    }

    /// The backoff after a failed round has passed.
    package mutating func roundTimerFired() -> Action {
        guard case .waitingForNextRound(let failedRounds) = state else { return illegal("roundTimerFired") }
        return startRound(failedRounds: failedRounds)
    }

    package mutating func close() -> Action {
        if state == .closed { return .none }
        state = .closed
        return .tearDown
    }

    private mutating func startRound(failedRounds: Int) -> Action {
        state = .resolving(sentinel: preferredSentinel, asked: 1, failedRounds: failedRounds)
        return .askSentinel(index: preferredSentinel)
    }

    private mutating func waitForNextRound(failedRounds: Int) -> Action {
        state = .waitingForNextRound(failedRounds: failedRounds)
        return .waitForNextRound(failedRounds: failedRounds)
    }

    /// An event the driver must never deliver in this state. Late events after `close()` are
    /// expected (a reply in flight), so they are ignored without complaint.
    private func illegal(_ event: String, ignoredWhenClosed: Bool = true) -> Action {
        if ignoredWhenClosed, state == .closed { return .none }
        assertionFailure("SentinelMasterStateMachine: \(event) in state \(state)")
        return .none
    }
}
