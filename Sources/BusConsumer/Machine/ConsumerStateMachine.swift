import BusDomain
import BusRegions

/// The bookkeeping of one consumer process, free of I/O: which entries it holds, what each is
/// waiting for, and when to read more.
///
/// The hard cap: every entry the process holds occupies a slot from the moment it is asked for
/// (a read or a claim reserves slots before it is sent) until it is acknowledged, dead-lettered
/// or released. So the group's pending count for this consumer never exceeds `maxInFlight`,
/// and a full process sends no read at all until a slot frees.
///
/// Events that cannot happen in the current state are bugs of the caller and fail loudly, in
/// two grades: a reply to a read or claim that is not out would corrupt the slot accounting,
/// and so the cap, so it traps (`preconditionFailure`, release builds too); an event about one
/// entry in the wrong phase only asserts (debug builds) and is ignored. Late events that can
/// legitimately happen (a handler completing after its timeout, a second `stop()`, a claim
/// coming due while one is out) are ignored silently.
struct ConsumerStateMachine: Sendable {
    enum Action: Sendable, Equatable {
        /// Send one XREADGROUP for up to `count` new entries.
        case read(count: Int)
        /// Reclaim up to `count` entries left idle by other consumers (XAUTOCLAIM).
        case claim(count: Int)
        /// Run the handler on the entry (delivery number `deliveries`); its completion (or
        /// timeout) is reported as `handled(key, run: run, …)`.
        case handle(EntryKey, deliveries: Int, run: Int)
        /// XACK the entry.
        case acknowledge(EntryKey)
        /// Wait `delayMs`, then report `retryDue`.
        case scheduleRetry(EntryKey, delayMs: Double)
        /// XCLAIM the entry to this consumer again. `countsDelivery`: Redis counts the delivery
        /// (after a real failure); false after a transient one (`XCLAIM … JUSTID`, count kept).
        case claimForRetry(EntryKey, countsDelivery: Bool)
        /// Write the entry to the dead-letter stream and XACK it, atomically.
        case deadLetter(EntryKey, deliveries: Int, error: String)
        /// Stopping, and nothing is being handled or written any more.
        case finished
    }

    /// The one read or claim the process has out at a time.
    enum Request: Sendable, Equatable {
        case idle
        /// A read is out; `claimWanted`: a reclaim came due while the (blocking) read held the
        /// free slots, so the claim goes out when the read returns, before the next read.
        case reading(claimWanted: Bool)
        case claiming
    }

    enum State: Sendable, Equatable {
        case running(Request)
        /// No new reads or claims; a request still out is waited for (a wanted claim is dropped).
        case stopping(Request)
        /// Stopped, nothing held and nothing out; `.finished` was emitted on entering it.
        case finished
    }

    /// Where one held entry is.
    enum Phase: Sendable, Equatable {
        /// The handler call numbered `run` is out.
        case handling(run: Int)
        case waitingToRetry
        case claimingForRetry
        case acknowledging
        case deadLettering
    }

    private struct Slot: Sendable {
        /// Redis's delivery count: deliveries that ended in a transient failure are not counted.
        var deliveries: Int
        var phase: Phase
        /// Failures of any kind so far (for a reclaimed entry, its earlier deliveries): the
        /// backoff grows with these, so an outage does not turn into fast retries.
        var failures: Int
        /// Whether the pending retry counts as a delivery (the last failure was not transient).
        var retryCounts = true

        init(deliveries: Int, phase: Phase) {
            self.deliveries = deliveries
            self.phase = phase
            self.failures = max(0, deliveries - 1)
        }
    }

    let maxInFlight: Int
    let maxDeliveries: Int
    let backoff: BackoffPolicy
    /// Free slots needed before a read goes out: one per stream, so that a read covers every
    /// stream (a read of only some streams can block on drained ones while others have work).
    let minimumRead: Int

    private(set) var state: State = .running(.idle)
    private var slots: [EntryKey: Slot] = [:]
    /// Slots promised to a read or claim whose reply has not come back.
    private var reserved = 0
    /// The last handler run number given out. One sequence for all entries, never reset: an
    /// entry released and taken on again can never get the number of a run still out there.
    private var lastRun = 0

    init(maxInFlight: Int, maxDeliveries: Int, backoff: BackoffPolicy, streams: Int = 1) {
        self.maxInFlight = maxInFlight
        self.maxDeliveries = maxDeliveries
        self.backoff = backoff
        self.minimumRead = max(1, min(streams, maxInFlight))
    }

    /// Entries held now (being handled, waiting to retry, or being acknowledged).
    var held: Int { slots.count }
    /// Slots neither held nor promised.
    var freeSlots: Int { maxInFlight - slots.count - reserved }
    var heldKeys: [EntryKey] { Array(slots.keys) }
    /// True from `stop()` on.
    var isStopping: Bool {
        if case .running = state { return false }
        return true
    }

    /// The phase of a held entry; nil when not held.
    func phase(of key: EntryKey) -> Phase? { slots[key]?.phase }

    /// Whether `run` is the handler call out for `key` now: false for a completion that came
    /// after its timeout, or after the entry was released (and perhaps taken on again).
    func isCurrent(_ key: EntryKey, run: Int) -> Bool { slots[key]?.phase == .handling(run: run) }

    mutating func start() -> [Action] {
        readIfPossible()
    }

    // MARK: Reading and claiming

    /// The read sent by `.read(count:)` came back with `entries` (new deliveries, count 1).
    /// While stopping, entries are not taken on: they stay pending in Redis for others.
    mutating func readFinished(_ entries: [EntryKey], reservedCount: Int) -> [Action] {
        guard case .reading(let claimWanted) = request else { invalidRequestEvent("readFinished") }
        request = .idle
        let accepted = accept(entries.map { ($0, 1) }, reservedCount: reservedCount)
        // A wanted claim goes first, else the next read.
        return accepted + (claimWanted ? claimIfPossible() : []) + readIfPossible() + finishIfDrained()
    }

    /// The read failed (timeout, connection, missing group, or closed by `stop()`); the caller
    /// retries with `readIfIdle` after its own backoff.
    mutating func readFailed(reservedCount: Int) -> [Action] {
        guard case .reading(let claimWanted) = request else { invalidRequestEvent("readFailed") }
        request = .idle
        reserved -= reservedCount
        return (claimWanted ? claimIfPossible() : []) + finishIfDrained()
    }

    /// Read if nothing is being read and a slot is free (after a failure, or once Redis is back).
    mutating func readIfIdle() -> [Action] {
        readIfPossible()
    }

    /// Time to look for entries idle on dead consumers. A blocking read holds every free slot
    /// while it waits, so the claim goes out when that read returns, before the next read.
    mutating func claimDue() -> [Action] {
        switch state {
        case .running(.idle):
            return claimIfPossible()
        case .running(.reading):
            state = .running(.reading(claimWanted: true))
            return []
        case .running(.claiming), .stopping, .finished:
            return []
        }
    }

    /// Reclaimed entries arrived, with their delivery counts (already counting this delivery).
    mutating func claimed(_ entries: [(EntryKey, deliveries: Int)], reservedCount: Int) -> [Action] {
        guard request == .claiming else { invalidRequestEvent("claimed") }
        request = .idle
        return accept(entries, reservedCount: reservedCount) + readIfPossible() + finishIfDrained()
    }

    // MARK: Handling

    /// The handler call `run` finished the entry. On failure, `unit` (-1 … 1) jitters the retry
    /// delay. A run that is not the one out for the entry (see `isCurrent`) is ignored.
    ///
    /// `transient`: the failure says nothing about the entry (the database was unavailable,
    /// timed out, cancelled the statement, deadlocked, was read-only or shutting down). Such
    /// a failure never dead-letters the entry and its retry does not count as a delivery, so
    /// an entry goes to the dead-letter stream only after `maxDeliveries` deliveries that
    /// failed for real (its own fault, or the handler timeout). The backoff still grows.
    mutating func handled(
        _ key: EntryKey, run: Int, succeeded: Bool, transient: Bool = false, error: String = "", unit: Double = 0
    ) -> [Action] {
        guard var slot = slots[key], slot.phase == .handling(run: run) else {
            // A run given out earlier is a late completion (after its timeout): legal, ignored.
            guard run >= 1 && run <= lastRun else { return invalidEntryEvent("handled(run: \(run))", key) }
            return []
        }
        if succeeded {
            slot.phase = .acknowledging
            slots[key] = slot
            return [.acknowledge(key)]
        }
        slot.failures += 1
        slot.retryCounts = !transient
        if !transient && slot.deliveries >= maxDeliveries {
            slot.phase = .deadLettering
            slots[key] = slot
            return [.deadLetter(key, deliveries: slot.deliveries, error: error)]
        }
        return retryLater(key, slot, unit: unit)
    }

    /// The backoff for `key` passed.
    mutating func retryDue(_ key: EntryKey) -> [Action] {
        guard var slot = slots[key], slot.phase == .waitingToRetry else { return invalidEntryEvent("retryDue", key) }
        slot.phase = .claimingForRetry
        slots[key] = slot
        return [.claimForRetry(key, countsDelivery: slot.retryCounts)]
    }

    /// The XCLAIM for a retry answered: `present` is false when the entry was trimmed from the
    /// stream meanwhile (Redis then drops it from the pending list).
    mutating func claimedForRetry(_ key: EntryKey, present: Bool) -> [Action] {
        guard var slot = slots[key], slot.phase == .claimingForRetry else {
            return invalidEntryEvent("claimedForRetry", key)
        }
        guard present, !isStopping else {
            slots[key] = nil
            return finishIfDrained() + readIfPossible()
        }
        if slot.retryCounts { slot.deliveries += 1 }
        let run = nextRun()
        slot.phase = .handling(run: run)
        slots[key] = slot
        return [.handle(key, deliveries: slot.deliveries, run: run)]
    }

    /// The XCLAIM for a retry failed (Redis unreachable): wait another backoff and try again.
    mutating func claimForRetryFailed(_ key: EntryKey, unit: Double = 0) -> [Action] {
        guard let slot = slots[key], slot.phase == .claimingForRetry else {
            return invalidEntryEvent("claimForRetryFailed", key)
        }
        return retryLater(key, slot, unit: unit)
    }

    /// Waits out the backoff for the slot's delivery count; while stopping, lets the entry go
    /// instead (it stays pending in Redis for another consumer).
    private mutating func retryLater(_ key: EntryKey, _ slot: Slot, unit: Double) -> [Action] {
        guard !isStopping else {
            slots[key] = nil
            return finishIfDrained()
        }
        var slot = slot
        slot.phase = .waitingToRetry
        slots[key] = slot
        return [.scheduleRetry(key, delayMs: backoff.delayMs(attempt: max(slot.failures, 1), unit: unit))]
    }

    /// XACK (or the dead-letter step) finished; `succeeded` false when Redis did not confirm.
    /// An unconfirmed entry is released anyway: it stays pending in Redis and is reclaimed and
    /// handled again later (the handler is idempotent), which beats holding a slot forever.
    mutating func settled(_ key: EntryKey) -> [Action] {
        settled([key])
    }

    /// Several entries settled at once (one XACK for all): their slots free together, so the
    /// next read asks for all of them instead of one.
    mutating func settled(_ keys: [EntryKey]) -> [Action] {
        for key in keys {
            guard let slot = slots[key], slot.phase == .acknowledging || slot.phase == .deadLettering else {
                _ = invalidEntryEvent("settled", key)
                continue
            }
            slots[key] = nil
        }
        return finishIfDrained() + readIfPossible()
    }

    // MARK: Stopping

    /// Stop reading; entries waiting to retry are released (left pending for others); the rest
    /// finish. `.finished` comes once nothing is being handled or written, exactly once.
    mutating func stop() -> [Action] {
        guard case .running(let request) = state else { return [] }
        state = .stopping(request == .claiming ? .claiming : request == .idle ? .idle : .reading(claimWanted: false))
        for (key, slot) in slots where slot.phase == .waitingToRetry {
            slots[key] = nil
        }
        return finishIfDrained()
    }

    /// False for keys released by `stop()`: the caller cancels their retry timers.
    func isHeld(_ key: EntryKey) -> Bool { slots[key] != nil }

    // MARK: Private

    /// The request of the running or stopping process (`.idle` once finished).
    private var request: Request {
        get {
            switch state {
            case .running(let request), .stopping(let request): request
            case .finished: .idle
            }
        }
        set {
            switch state {
            case .running: state = .running(newValue)
            case .stopping: state = .stopping(newValue)
            case .finished: preconditionFailure("Invalid state: a request in \(state)")
            }
        }
    }

    private mutating func nextRun() -> Int {
        lastRun += 1
        return lastRun
    }

    private mutating func accept(_ entries: [(EntryKey, deliveries: Int)], reservedCount: Int) -> [Action] {
        reserved -= reservedCount
        guard !isStopping else { return [] }
        var actions: [Action] = []
        for (key, deliveries) in entries {
            guard slots[key] == nil else { continue }
            // Never exceed the cap, even if Redis returned more than was asked for.
            guard slots.count + reserved < maxInFlight else { break }
            let run = nextRun()
            slots[key] = Slot(deliveries: deliveries, phase: .handling(run: run))
            actions.append(.handle(key, deliveries: deliveries, run: run))
        }
        return actions
    }

    private mutating func claimIfPossible() -> [Action] {
        guard state == .running(.idle), freeSlots > 0 else { return [] }
        let count = freeSlots
        state = .running(.claiming)
        reserved += count
        return [.claim(count: count)]
    }

    private mutating func readIfPossible() -> [Action] {
        guard state == .running(.idle), freeSlots >= minimumRead else { return [] }
        let count = freeSlots
        state = .running(.reading(claimWanted: false))
        reserved += count
        return [.read(count: count)]
    }

    private mutating func finishIfDrained() -> [Action] {
        guard state == .stopping(.idle), slots.isEmpty, reserved == 0 else { return [] }
        state = .finished
        return [.finished]
    }

    /// A reply to a read or claim that is not out: the slot accounting (and so the cap) would
    /// be wrong from here on, so this traps in every build.
    private func invalidRequestEvent(_ event: String) -> Never {
        preconditionFailure("Invalid state: \(event) in \(state)")
    }

    /// An event about an entry that is not held, or not in the phase the event belongs to:
    /// loud in debug builds, ignored in release (the entry's own accounting is untouched).
    private func invalidEntryEvent(_ event: String, _ key: EntryKey) -> [Action] {
        assertionFailure("Invalid state: \(event) for \(key) in \(slots[key].map { "\($0.phase)" } ?? "no slot")")
        return []
    }
}
