import Testing

@testable import BusRedis

@Suite("Sentinel master discovery: the state machine")
struct SentinelMasterStateMachineTests {
    let first = RedisServerAddress(host: "10.0.0.1", port: 6379)
    let second = RedisServerAddress(host: "10.0.0.2", port: 6379)

    @Test("resolve, verify, serve")
    func happyPath() {
        var machine = SentinelMasterStateMachine(sentinelCount: 3)
        #expect(machine.master == nil)
        #expect(machine.start() == .askSentinel(index: 0))
        #expect(machine.sentinelAnswered(master: first) == .verify(candidate: first))
        #expect(machine.master == nil)
        #expect(machine.verified() == .serve(master: first))
        #expect(machine.master == first)
    }

    @Test("each Sentinel in turn; a round that finds none waits, with growing rounds")
    func sentinelsInTurn() {
        var machine = SentinelMasterStateMachine(sentinelCount: 3)
        _ = machine.start()
        #expect(machine.sentinelFailed() == .askSentinel(index: 1))
        #expect(machine.sentinelFailed() == .askSentinel(index: 2))
        #expect(machine.sentinelFailed() == .waitForNextRound(failedRounds: 1))
        #expect(machine.master == nil)
        #expect(machine.roundTimerFired() == .askSentinel(index: 0))
        #expect(machine.sentinelFailed() == .askSentinel(index: 1))
        #expect(machine.sentinelFailed() == .askSentinel(index: 2))
        #expect(machine.sentinelFailed() == .waitForNextRound(failedRounds: 2))
        #expect(machine.roundTimerFired() == .askSentinel(index: 0))
        #expect(machine.sentinelFailed() == .askSentinel(index: 1))
        // The Sentinel that answers is asked first from then on.
        #expect(machine.sentinelAnswered(master: first) == .verify(candidate: first))
        #expect(machine.preferredSentinel == 1)
        #expect(machine.verified() == .serve(master: first))
        #expect(machine.masterLost() == .askSentinel(index: 1))
        #expect(machine.sentinelFailed() == .askSentinel(index: 2))
        #expect(machine.sentinelFailed() == .askSentinel(index: 0))
        #expect(machine.state == .resolving(sentinel: 0, asked: 3, failedRounds: 0))
    }

    @Test("a candidate that is not (or no longer) master costs a round, then the Sentinels are asked again")
    func staleCandidate() {
        var machine = SentinelMasterStateMachine(sentinelCount: 2)
        _ = machine.start()
        _ = machine.sentinelAnswered(master: first)
        #expect(machine.verificationFailed() == .waitForNextRound(failedRounds: 1))
        #expect(machine.roundTimerFired() == .askSentinel(index: 0))
        _ = machine.sentinelAnswered(master: first)
        #expect(machine.verificationFailed() == .waitForNextRound(failedRounds: 2))
        #expect(machine.roundTimerFired() == .askSentinel(index: 0))
        _ = machine.sentinelAnswered(master: second)
        #expect(machine.verified() == .serve(master: second))
        // Serving resets the rounds: the next loss starts from the shortest pause.
        _ = machine.masterLost()
        _ = machine.sentinelFailed()
        #expect(machine.sentinelFailed() == .waitForNextRound(failedRounds: 1))
    }

    @Test("losing the master resolves again at once")
    func lost() {
        var machine = SentinelMasterStateMachine(sentinelCount: 1)
        _ = machine.start()
        _ = machine.sentinelAnswered(master: first)
        _ = machine.verified()
        #expect(machine.masterLost() == .askSentinel(index: 0))
        #expect(machine.master == nil)
        _ = machine.sentinelAnswered(master: second)
        #expect(machine.verified() == .serve(master: second))
    }

    @Test("+switch-master verifies the announced master from any state, at once")
    func switchAnnounced() {
        var machine = SentinelMasterStateMachine(sentinelCount: 3)
        _ = machine.start()
        // While asking a Sentinel.
        #expect(machine.switchAnnounced(newMaster: second) == .verify(candidate: second))
        #expect(machine.switchAnnounced(newMaster: second) == .none)
        #expect(machine.verified() == .serve(master: second))
        // The master being served: nothing to do.
        #expect(machine.switchAnnounced(newMaster: second) == .none)
        // Another master while serving: stop serving, verify it.
        #expect(machine.switchAnnounced(newMaster: first) == .verify(candidate: first))
        #expect(machine.master == nil)
        // While waiting for the next round: no need to wait.
        #expect(machine.verificationFailed() == .waitForNextRound(failedRounds: 1))
        #expect(machine.switchAnnounced(newMaster: second) == .verify(candidate: second))
        #expect(machine.state == .verifying(candidate: second, failedRounds: 1))
        // While verifying another candidate: the announcement wins.
        #expect(machine.switchAnnounced(newMaster: first) == .verify(candidate: first))
        #expect(machine.verified() == .serve(master: first))
    }

    @Test("close tears down once; late events after it are ignored")
    func close() {
        var machine = SentinelMasterStateMachine(sentinelCount: 2)
        _ = machine.start()
        _ = machine.sentinelAnswered(master: first)
        _ = machine.verified()
        #expect(machine.close() == .tearDown)
        #expect(machine.master == nil)
        #expect(machine.close() == .none)
        #expect(machine.switchAnnounced(newMaster: second) == .none)
        #expect(machine.sentinelAnswered(master: first) == .none)
        #expect(machine.sentinelFailed() == .none)
        #expect(machine.verified() == .none)
        #expect(machine.verificationFailed() == .none)
        #expect(machine.masterLost() == .none)
        #expect(machine.roundTimerFired() == .none)
    }
}
