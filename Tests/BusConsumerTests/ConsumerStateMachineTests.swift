import BusDomain
import BusRegions
import Testing

@testable import BusConsumer

@Suite("Consumer delivery decisions")
struct ConsumerStateMachineTests {
    private let policy = BackoffPolicy(initialMs: 100, multiplier: 2, maxMs: 8000, jitter: 0.2)

    private func key(_ id: String) -> EntryKey { EntryKey(biome: BiomeID(7)!, id: id) }

    @Test("reads reserve every free slot, and a full process does not read")
    func capAndReads() {
        var machine = ConsumerStateMachine(maxInFlight: 3, maxDeliveries: 5, backoff: policy)
        #expect(machine.start() == [.read(count: 3)])
        #expect(machine.freeSlots == 0)
        let actions = machine.readFinished([key("1"), key("2")], reservedCount: 3)
        #expect(
            actions == [
                .handle(key("1"), deliveries: 1, run: 1), .handle(key("2"), deliveries: 1, run: 2), .read(count: 1),
            ])
        #expect(machine.readFinished([key("3")], reservedCount: 1) == [.handle(key("3"), deliveries: 1, run: 3)])
        #expect(machine.held == 3)
        #expect(machine.freeSlots == 0)
        #expect(machine.readIfIdle() == [], "full: no read until a slot frees")
        #expect(machine.handled(key("1"), succeeded: true) == [.acknowledge(key("1"))])
        #expect(machine.held == 3, "the slot is held until the XACK is confirmed")
        #expect(machine.settled(key("1")) == [.read(count: 1)])
    }

    @Test("entries acknowledged together free their slots together: one read for all of them")
    func settledTogether() {
        var machine = ConsumerStateMachine(maxInFlight: 3, maxDeliveries: 5, backoff: policy)
        _ = machine.start()
        _ = machine.readFinished([key("1"), key("2"), key("3")], reservedCount: 3)
        for id in ["1", "2", "3"] { #expect(machine.handled(key(id), succeeded: true) == [.acknowledge(key(id))]) }
        #expect(machine.settled([key("1"), key("2"), key("3")]) == [.read(count: 3)])
        #expect(machine.held == 0)
    }

    @Test("more entries than asked for never exceed the cap")
    func neverOverCap() {
        var machine = ConsumerStateMachine(maxInFlight: 2, maxDeliveries: 5, backoff: policy)
        _ = machine.start()
        let actions = machine.readFinished([key("1"), key("2"), key("3")], reservedCount: 2)
        #expect(actions.count == 2)
        #expect(machine.held == 2)
    }

    @Test("failures retry after the backoff of the attempt, counting deliveries; then dead-letter")
    func retriesThenDeadLetter() {
        var machine = ConsumerStateMachine(maxInFlight: 1, maxDeliveries: 3, backoff: policy)
        _ = machine.start()
        _ = machine.readFinished([key("1")], reservedCount: 1)
        #expect(machine.handled(key("1"), succeeded: false, error: "boom") == [.scheduleRetry(key("1"), delayMs: 100)])
        #expect(machine.retryDue(key("1")) == [.claimForRetry(key("1"), countsDelivery: true)])
        #expect(machine.claimedForRetry(key("1"), present: true) == [.handle(key("1"), deliveries: 2, run: 2)])
        #expect(machine.handled(key("1"), succeeded: false, unit: 1) == [.scheduleRetry(key("1"), delayMs: 240)])
        #expect(machine.retryDue(key("1")) == [.claimForRetry(key("1"), countsDelivery: true)])
        #expect(machine.claimedForRetry(key("1"), present: true) == [.handle(key("1"), deliveries: 3, run: 3)])
        #expect(
            machine.handled(key("1"), succeeded: false, error: "bad coords")
                == [.deadLetter(key("1"), deliveries: 3, error: "bad coords")])
        #expect(machine.held == 1, "a waiting or dead-lettering entry keeps its slot")
        #expect(machine.settled(key("1")) == [.read(count: 1)])
    }

    @Test(
        "a transient failure retries with a growing backoff, does not count a delivery and never dead-letters")
    func transientFailures() {
        var machine = ConsumerStateMachine(maxInFlight: 1, maxDeliveries: 2, backoff: policy)
        _ = machine.start()
        _ = machine.readFinished([key("1")], reservedCount: 1)
        #expect(machine.handled(key("1"), succeeded: false, error: "bad") == [.scheduleRetry(key("1"), delayMs: 100)])
        #expect(machine.retryDue(key("1")) == [.claimForRetry(key("1"), countsDelivery: true)])
        #expect(machine.claimedForRetry(key("1"), present: true) == [.handle(key("1"), deliveries: 2, run: 2)])
        // At max_deliveries: a real failure would dead-letter, a transient one retries.
        for (delay, run) in zip([200.0, 400, 800], [3, 4, 5]) {
            #expect(
                machine.handled(key("1"), succeeded: false, transient: true, error: "57014")
                    == [.scheduleRetry(key("1"), delayMs: delay)])
            #expect(machine.retryDue(key("1")) == [.claimForRetry(key("1"), countsDelivery: false)])
            #expect(machine.claimedForRetry(key("1"), present: true) == [.handle(key("1"), deliveries: 2, run: run)])
        }
        #expect(
            machine.handled(key("1"), succeeded: false, error: "bad")
                == [.deadLetter(key("1"), deliveries: 2, error: "bad")])
    }

    @Test("an entry trimmed while waiting to retry frees its slot")
    func trimmedWhileWaiting() {
        var machine = ConsumerStateMachine(maxInFlight: 1, maxDeliveries: 5, backoff: policy)
        _ = machine.start()
        _ = machine.readFinished([key("1")], reservedCount: 1)
        _ = machine.handled(key("1"), succeeded: false)
        _ = machine.retryDue(key("1"))
        #expect(machine.claimedForRetry(key("1"), present: false) == [.read(count: 1)])
        #expect(machine.held == 0)
    }

    @Test("a claim due while a blocking read holds the slots goes out when the read returns, before the next read")
    func reclaimWaitsForTheRead() {
        var machine = ConsumerStateMachine(maxInFlight: 4, maxDeliveries: 5, backoff: policy)
        #expect(machine.start() == [.read(count: 4)])
        #expect(machine.claimDue() == [], "the read holds every free slot")
        #expect(
            machine.readFinished([key("1")], reservedCount: 4) == [
                .handle(key("1"), deliveries: 1, run: 1), .claim(count: 3),
            ])
        #expect(machine.freeSlots == 0)
        #expect(machine.readIfIdle() == [], "no read while the claim is out")
        let actions = machine.claimed([(key("1"), deliveries: 2), (key("9"), deliveries: 3)], reservedCount: 3)
        #expect(
            actions == [.handle(key("9"), deliveries: 3, run: 2), .read(count: 2)], "an entry already held is skipped")
        #expect(machine.held == 2)
    }

    @Test("a claim with no read outstanding goes at once; a full process claims nothing")
    func reclaimWhenIdleOrFull() {
        var machine = ConsumerStateMachine(maxInFlight: 2, maxDeliveries: 5, backoff: policy)
        _ = machine.start()
        #expect(machine.readFailed(reservedCount: 2) == [])
        #expect(machine.claimDue() == [.claim(count: 2)])
        #expect(machine.claimDue() == [], "one claim at a time")
        _ = machine.claimed([(key("1"), deliveries: 2), (key("2"), deliveries: 2)], reservedCount: 2)
        #expect(machine.freeSlots == 0)
        #expect(machine.claimDue() == [])
    }

    @Test("stop: no more reads, waiting retries are released, finished once handlers are done")
    func stopping() {
        var machine = ConsumerStateMachine(maxInFlight: 3, maxDeliveries: 5, backoff: policy)
        _ = machine.start()
        _ = machine.readFinished([key("1"), key("2")], reservedCount: 3)
        _ = machine.handled(key("2"), succeeded: false)
        #expect(machine.stop() == [], "a read is still out and key 1 is being handled")
        #expect(!machine.isHeld(key("2")))
        #expect(
            machine.readFinished([key("5")], reservedCount: 1) == [], "entries read while stopping are left pending")
        #expect(!machine.isHeld(key("5")))
        #expect(machine.handled(key("1"), succeeded: true) == [.acknowledge(key("1"))])
        #expect(machine.settled(key("1")) == [.finished])
        #expect(machine.readIfIdle() == [])
        #expect(machine.claimDue() == [])
    }

    @Test("a failure while stopping is left pending for others, not retried")
    func failureWhileStopping() {
        var machine = ConsumerStateMachine(maxInFlight: 1, maxDeliveries: 5, backoff: policy)
        _ = machine.start()
        _ = machine.readFinished([key("1")], reservedCount: 1)
        _ = machine.stop()
        #expect(machine.handled(key("1"), succeeded: false) == [.finished])
    }
}

extension ConsumerStateMachine {
    /// The handler call out for `key` completes (the tests above do not care about run numbers).
    mutating func handled(
        _ key: EntryKey, succeeded: Bool, transient: Bool = false, error: String = "", unit: Double = 0
    ) -> [Action] {
        guard case .handling(let run) = phase(of: key) else {
            Issue.record("\(key) is not being handled")
            return []
        }
        return handled(key, run: run, succeeded: succeeded, transient: transient, error: error, unit: unit)
    }
}

@Suite("Read plans keep XREADGROUP within the free slots")
struct ReadPlanTests {
    @Test("COUNT applies per stream, so the total asked never exceeds the free slots")
    func neverMoreThanFree() {
        for streams in 1...7 {
            for free in 0...40 {
                let plan = ReadPlan(freeSlots: free, streamCount: streams, rotation: free * 3)
                #expect(plan.maximum <= free)
                #expect(free == 0 || plan.maximum > 0, "some progress whenever a slot is free")
                #expect(Set(plan.streams).count == plan.streams.count)
            }
        }
    }

    @Test("few free slots: one entry from each of a rotating subset of streams")
    func rotation() {
        #expect(
            ReadPlan(freeSlots: 8, streamCount: 4, rotation: 0) == ReadPlan(freeSlots: 8, streamCount: 4, rotation: 9))
        #expect(ReadPlan(freeSlots: 8, streamCount: 4, rotation: 0).countPerStream == 2)
        let first = ReadPlan(freeSlots: 2, streamCount: 4, rotation: 0)
        let second = ReadPlan(freeSlots: 2, streamCount: 4, rotation: 2)
        #expect(first.streams == [0, 1] && second.streams == [2, 3])
        #expect(ReadPlan(freeSlots: 3, streamCount: 4, rotation: 3).streams == [3, 0, 1])
    }
}

@Suite("Reads over several streams")
struct MultiStreamReadTests {
    @Test("with several streams, a read waits until one slot per stream is free")
    func waitsForOneSlotPerStream() {
        let key = { (id: String) in EntryKey(biome: BiomeID(1)!, id: id) }
        var machine = ConsumerStateMachine(
            maxInFlight: 8, maxDeliveries: 5, backoff: BackoffPolicy(), streams: 4)
        #expect(machine.start() == [.read(count: 8)])
        let ids = (0..<8).map { key("\($0)") }
        _ = machine.readFinished(ids, reservedCount: 8)
        for id in ids.prefix(3) {
            _ = machine.handled(id, succeeded: true)
            #expect(machine.settled(id) == [], "fewer free slots than streams: no read yet")
        }
        _ = machine.handled(ids[3], succeeded: true)
        #expect(machine.settled(ids[3]) == [.read(count: 4)])
    }
}
