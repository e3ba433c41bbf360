import BusDomain
import BusRegions
import Testing

@testable import BusConsumer

/// The machine in each state it can be in, reached through its own events (max_in_flight 2).
enum MachineStart: String, CaseIterable, Sendable {
    case runningIdle, runningFull, runningReading, runningReadingClaimWanted, runningClaiming
    case stoppingIdle, stoppingReading, stoppingClaiming, finished

    static let a = EntryKey(biome: BiomeID(7)!, id: "1-0")
    static let b = EntryKey(biome: BiomeID(7)!, id: "2-0")

    func make() -> ConsumerStateMachine {
        var machine = ConsumerStateMachine(
            maxInFlight: 2, maxDeliveries: 3, backoff: BackoffPolicy(initialMs: 100, multiplier: 2, jitter: 0))
        _ = machine.start()
        switch self {
        case .runningReading: break
        case .runningIdle: _ = machine.readFailed(reservedCount: 2)
        case .runningFull: _ = machine.readFinished([Self.a, Self.b], reservedCount: 2)
        case .runningReadingClaimWanted: _ = machine.claimDue()
        case .runningClaiming:
            _ = machine.readFailed(reservedCount: 2)
            _ = machine.claimDue()
        case .stoppingIdle:
            _ = machine.readFinished([Self.a, Self.b], reservedCount: 2)
            _ = machine.stop()
        case .stoppingReading: _ = machine.stop()
        case .stoppingClaiming:
            _ = machine.readFailed(reservedCount: 2)
            _ = machine.claimDue()
            _ = machine.stop()
        case .finished:
            _ = machine.readFailed(reservedCount: 2)
            _ = machine.stop()
        }
        return machine
    }

    var state: ConsumerStateMachine.State {
        switch self {
        case .runningIdle, .runningFull: .running(.idle)
        case .runningReading: .running(.reading(claimWanted: false))
        case .runningReadingClaimWanted: .running(.reading(claimWanted: true))
        case .runningClaiming: .running(.claiming)
        case .stoppingIdle: .stopping(.idle)
        case .stoppingReading: .stopping(.reading(claimWanted: false))
        case .stoppingClaiming: .stopping(.claiming)
        case .finished: .finished
        }
    }
}

@Suite("Consumer machine transitions")
struct ConsumerStateMachineTransitionTests {
    typealias Action = ConsumerStateMachine.Action
    typealias State = ConsumerStateMachine.State

    @Test("each start state is what it says", arguments: MachineStart.allCases)
    func startStates(_ start: MachineStart) {
        #expect(start.make().state == start.state)
    }

    @Test(
        "claimDue in each state: at once when idle with free slots, after the read when reading, else nothing",
        arguments: [
            (MachineStart.runningIdle, [Action.claim(count: 2)], State.running(.claiming)),
            (.runningFull, [], .running(.idle)),
            (.runningReading, [], .running(.reading(claimWanted: true))),
            (.runningReadingClaimWanted, [], .running(.reading(claimWanted: true))),
            (.runningClaiming, [], .running(.claiming)),
            (.stoppingIdle, [], .stopping(.idle)),
            (.stoppingReading, [], .stopping(.reading(claimWanted: false))),
            (.stoppingClaiming, [], .stopping(.claiming)),
            (.finished, [], .finished),
        ])
    func claimDue(_ start: MachineStart, actions: [Action], after: State) {
        var machine = start.make()
        #expect(machine.claimDue() == actions)
        #expect(machine.state == after)
    }

    @Test(
        "stop in each state: a request out is waited for, a wanted claim dropped, a second stop ignored",
        arguments: [
            (MachineStart.runningIdle, [Action.finished], State.finished),
            (.runningFull, [], .stopping(.idle)),
            (.runningReading, [], .stopping(.reading(claimWanted: false))),
            (.runningReadingClaimWanted, [], .stopping(.reading(claimWanted: false))),
            (.runningClaiming, [], .stopping(.claiming)),
            (.stoppingIdle, [], .stopping(.idle)),
            (.stoppingReading, [], .stopping(.reading(claimWanted: false))),
            (.stoppingClaiming, [], .stopping(.claiming)),
            (.finished, [], .finished),
        ])
    func stop(_ start: MachineStart, actions: [Action], after: State) {
        var machine = start.make()
        #expect(machine.stop() == actions)
        #expect(machine.state == after)
        #expect(machine.isStopping)
    }

    @Test("readIfIdle reads only when running, idle and with free slots", arguments: MachineStart.allCases)
    func readIfIdle(_ start: MachineStart) {
        var machine = start.make()
        #expect(machine.readIfIdle() == (start == .runningIdle ? [.read(count: 2)] : []))
        #expect(machine.state == (start == .runningIdle ? .running(.reading(claimWanted: false)) : start.state))
    }

    @Test(
        "the reply to the request out: a wanted claim goes before the next read; stopping finishes once it is back",
        arguments: [
            (MachineStart.runningReading, [Action.read(count: 2)], State.running(.reading(claimWanted: false))),
            (.runningReadingClaimWanted, [.claim(count: 2)], .running(.claiming)),
            (.runningClaiming, [.read(count: 2)], .running(.reading(claimWanted: false))),
            (.stoppingReading, [.finished], .finished),
            (.stoppingClaiming, [.finished], .finished),
        ])
    func replyToTheRequest(_ start: MachineStart, actions: [Action], after: State) {
        var machine = start.make()
        let reply =
            start.state == .running(.claiming) || start.state == .stopping(.claiming)
            ? machine.claimed([], reservedCount: 2) : machine.readFinished([], reservedCount: 2)
        #expect(reply == actions)
        #expect(machine.state == after)
    }

    @Test("a read failing because stop() closed its connection is legal and finishes the stop")
    func readClosedByStop() {
        var machine = MachineStart.stoppingReading.make()
        #expect(machine.readFailed(reservedCount: 2) == [.finished])
        #expect(machine.state == .finished)
    }

    @Test("a completion after the handler timeout is ignored, also once the entry is handled again")
    func completionAfterTimeout() {
        let a = MachineStart.a
        var machine = MachineStart.runningFull.make()
        #expect(machine.phase(of: a) == .handling(run: 1))
        #expect(
            machine.handled(a, run: 1, succeeded: false, error: "handler timed out")
                == [.scheduleRetry(a, delayMs: 100)])
        #expect(!machine.isCurrent(a, run: 1))
        #expect(machine.handled(a, run: 1, succeeded: true) == [], "the real completion, late")
        #expect(machine.phase(of: a) == .waitingToRetry)
        #expect(machine.retryDue(a) == [.claimForRetry(a, countsDelivery: true)])
        #expect(machine.claimedForRetry(a, present: true) == [.handle(a, deliveries: 2, run: 3)])
        #expect(machine.handled(a, run: 1, succeeded: false) == [], "still late while the next run is out")
        #expect(machine.isCurrent(a, run: 3))
        #expect(machine.handled(a, run: 3, succeeded: true) == [.acknowledge(a)])
    }

    @Test("an entry released and taken on again gets a new run; the old one is stale")
    func releasedAndTakenOnAgain() {
        let a = MachineStart.a
        var machine = ConsumerStateMachine(maxInFlight: 1, maxDeliveries: 5, backoff: BackoffPolicy())
        _ = machine.start()
        #expect(machine.readFinished([a], reservedCount: 1) == [.handle(a, deliveries: 1, run: 1)])
        _ = machine.handled(a, run: 1, succeeded: false)
        _ = machine.retryDue(a)
        #expect(machine.claimedForRetry(a, present: false) == [.read(count: 1)], "trimmed meanwhile: released")
        #expect(machine.handled(a, run: 1, succeeded: true) == [], "not held: a stale run")
        #expect(machine.readFinished([a], reservedCount: 1) == [.handle(a, deliveries: 1, run: 2)])
        #expect(machine.handled(a, run: 1, succeeded: true) == [])
        #expect(machine.handled(a, run: 2, succeeded: true) == [.acknowledge(a)])
    }

    @Test(
        "a transient failure keeps the delivery count (JUSTID), a real one counts the next delivery",
        arguments: [(true, false, 1), (false, true, 2)])
    func transientKeepsDeliveryCount(transient: Bool, countsDelivery: Bool, nextDeliveries: Int) {
        let a = MachineStart.a
        var machine = ConsumerStateMachine(maxInFlight: 1, maxDeliveries: 5, backoff: BackoffPolicy(jitter: 0))
        _ = machine.start()
        _ = machine.readFinished([a], reservedCount: 1)
        #expect(
            machine.handled(a, run: 1, succeeded: false, transient: transient, error: "x")
                == [.scheduleRetry(a, delayMs: 100)])
        #expect(machine.retryDue(a) == [.claimForRetry(a, countsDelivery: countsDelivery)])
        #expect(machine.claimedForRetry(a, present: true) == [.handle(a, deliveries: nextDeliveries, run: 2)])
    }

    @Test("finished comes exactly once, however many events follow")
    func finishedOnce() {
        let a = MachineStart.a
        let b = MachineStart.b
        var machine = MachineStart.runningFull.make()
        var actions: [Action] = []
        actions += machine.handled(a, run: 1, succeeded: true)
        actions += machine.stop()
        actions += machine.stop()
        actions += machine.handled(b, run: 2, succeeded: false, error: "x")
        #expect(!machine.isHeld(b), "a failure while stopping is left pending for others")
        actions += machine.settled(a)
        actions += machine.stop()
        actions += machine.handled(b, run: 2, succeeded: true)
        actions += machine.readIfIdle()
        actions += machine.claimDue()
        #expect(actions.filter { $0 == .finished }.count == 1)
        #expect(machine.state == .finished)
        #expect(machine.held == 0 && machine.freeSlots == 2)
    }

    @Test("stop releases entries waiting to retry, keeps the others until they settle")
    func stopReleasesWaiting() {
        let a = MachineStart.a
        let b = MachineStart.b
        var machine = MachineStart.runningFull.make()
        _ = machine.handled(a, run: 1, succeeded: false)
        #expect(machine.stop() == [])
        #expect(!machine.isHeld(a) && machine.isHeld(b))
        #expect(machine.handled(b, run: 2, succeeded: true) == [.acknowledge(b)])
        #expect(machine.settled(b) == [.finished])
    }

    // MARK: Invalid events fail loudly

    @Test("a read reply with no read out traps")
    func readReplyWithoutRead() async {
        await #expect(processExitsWith: .failure) {
            var machine = MachineStart.runningIdle.make()
            _ = machine.readFinished([], reservedCount: 0)
        }
        await #expect(processExitsWith: .failure) {
            var machine = MachineStart.runningClaiming.make()
            _ = machine.readFailed(reservedCount: 2)
        }
        await #expect(processExitsWith: .failure) {
            var machine = MachineStart.finished.make()
            _ = machine.readFailed(reservedCount: 0)
        }
    }

    @Test("a claim reply with no claim out traps")
    func claimReplyWithoutClaim() async {
        await #expect(processExitsWith: .failure) {
            var machine = MachineStart.runningReading.make()
            _ = machine.claimed([], reservedCount: 2)
        }
        await #expect(processExitsWith: .failure) {
            var machine = MachineStart.stoppingIdle.make()
            _ = machine.claimed([], reservedCount: 0)
        }
    }

    @Test("per-entry events in the wrong phase assert in debug builds")
    func entryEventsInTheWrongPhase() async {
        // Entry a is being handled in .runningFull.
        await #expect(processExitsWith: .failure) {
            var machine = MachineStart.runningFull.make()
            _ = machine.retryDue(MachineStart.a)
        }
        await #expect(processExitsWith: .failure) {
            var machine = MachineStart.runningFull.make()
            _ = machine.claimedForRetry(MachineStart.a, present: true)
        }
        await #expect(processExitsWith: .failure) {
            var machine = MachineStart.runningFull.make()
            _ = machine.claimForRetryFailed(MachineStart.a)
        }
        await #expect(processExitsWith: .failure) {
            var machine = MachineStart.runningFull.make()
            _ = machine.settled(MachineStart.a)
        }
        await #expect(processExitsWith: .failure, "a run never given out") {
            var machine = MachineStart.runningFull.make()
            _ = machine.handled(MachineStart.a, run: 99, succeeded: true)
        }
    }
}
