import BusDomain

/// The bookkeeping of one consumer process, free of I/O: which entries it holds, what each is
/// waiting for, and when to read more.
///
/// The hard cap: every entry the process holds occupies a slot from the moment it is asked for
/// (a read or a claim reserves slots before it is sent) until it is acknowledged, dead-lettered
/// or released. So the group's pending count for this consumer never exceeds `maxInFlight`,
/// and a full process sends no read at all until a slot frees.
struct ConsumerStateMachine: Sendable {
    enum Action: Sendable, Equatable {
        /// Send one XREADGROUP for up to `count` new entries.
        case read(count: Int)
        /// Reclaim up to `count` entries left idle by other consumers (XAUTOCLAIM).
        case claim(count: Int)
        /// Run the handler on the entry (delivery number `deliveries`).
        case handle(EntryKey, deliveries: Int)
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

    private enum Phase: Sendable, Equatable {
        case handling
        case waitingToRetry
        case claiming
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

    private var slots: [EntryKey: Slot] = [:]
    /// Slots promised to a read or claim whose reply has not come back.
    private var reserved = 0
    private var isReading = false
    private var isClaiming = false
    /// A reclaim came due while a (blocking) read held the free slots: it goes next.
    private var claimWanted = false
    private(set) var isStopping = false
    private var hasFinished = false

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

    mutating func start() -> [Action] {
        readIfPossible()
    }

    // MARK: Reading and claiming

    /// The read sent by `.read(count:)` came back with `entries` (new deliveries, count 1).
    /// While stopping, entries are not taken on: they stay pending in Redis for others.
    mutating func readFinished(_ entries: [EntryKey], reservedCount: Int) -> [Action] {
        isReading = false
        return accept(entries.map { ($0, 1) }, reservedCount: reservedCount) + nextRequest() + finishIfDrained()
    }

    /// The read failed (timeout, connection, missing group); the caller retries with `readIfIdle`
    /// after its own backoff.
    mutating func readFailed(reservedCount: Int) -> [Action] {
        isReading = false
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
        guard !isStopping, !isClaiming else { return [] }
        guard !isReading else {
            claimWanted = true
            return []
        }
        return claimIfPossible()
    }

    /// Reclaimed entries arrived, with their delivery counts (already counting this delivery).
    mutating func claimed(_ entries: [(EntryKey, deliveries: Int)], reservedCount: Int) -> [Action] {
        isClaiming = false
        return accept(entries, reservedCount: reservedCount) + readIfPossible() + finishIfDrained()
    }

    // MARK: Handling

    /// The handler finished the entry. On failure, `unit` (-1 … 1) jitters the retry delay.
    ///
    /// `transient`: the failure says nothing about the entry (the database was unavailable,
    /// timed out, cancelled the statement, deadlocked, was read-only or shutting down). Such
    /// a failure never dead-letters the entry and its retry does not count as a delivery, so
    /// an entry goes to the dead-letter stream only after `maxDeliveries` deliveries that
    /// failed for real (its own fault, or the handler timeout). The backoff still grows.
    mutating func handled(
        _ key: EntryKey, succeeded: Bool, transient: Bool = false, error: String = "", unit: Double = 0
    ) -> [Action] {
        guard var slot = slots[key], slot.phase == .handling else { return [] }
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
        guard var slot = slots[key], slot.phase == .waitingToRetry else { return [] }
        slot.phase = .claiming
        slots[key] = slot
        return [.claimForRetry(key, countsDelivery: slot.retryCounts)]
    }

    /// The XCLAIM for a retry answered: `present` is false when the entry was trimmed from the
    /// stream meanwhile (Redis then drops it from the pending list).
    mutating func claimedForRetry(_ key: EntryKey, present: Bool) -> [Action] {
        guard var slot = slots[key], slot.phase == .claiming else { return [] }
        guard present, !isStopping else {
            slots[key] = nil
            return finishIfDrained() + readIfPossible()
        }
        if slot.retryCounts { slot.deliveries += 1 }
        slot.phase = .handling
        slots[key] = slot
        return [.handle(key, deliveries: slot.deliveries)]
    }

    /// The XCLAIM for a retry failed (Redis unreachable): wait another backoff and try again.
    mutating func claimForRetryFailed(_ key: EntryKey, unit: Double = 0) -> [Action] {
        guard let slot = slots[key], slot.phase == .claiming else { return [] }
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
            guard let slot = slots[key], slot.phase == .acknowledging || slot.phase == .deadLettering else { continue }
            slots[key] = nil
        }
        return finishIfDrained() + readIfPossible()
    }

    // MARK: Stopping

    /// Stop reading; entries waiting to retry are released (left pending for others); the rest
    /// finish. `.finished` comes once nothing is being handled or written.
    mutating func stop() -> [Action] {
        guard !isStopping else { return [] }
        isStopping = true
        for (key, slot) in slots where slot.phase == .waitingToRetry {
            slots[key] = nil
        }
        return finishIfDrained()
    }

    /// False for keys released by `stop()`: the caller cancels their retry timers.
    func isHeld(_ key: EntryKey) -> Bool { slots[key] != nil }

    // MARK: Private

    private mutating func accept(_ entries: [(EntryKey, deliveries: Int)], reservedCount: Int) -> [Action] {
        reserved -= reservedCount
        guard !isStopping else { return [] }
        var actions: [Action] = []
        for (key, deliveries) in entries {
            guard slots[key] == nil else { continue }
            // Never exceed the cap, even if Redis returned more than was asked for.
            guard slots.count + reserved < maxInFlight else { break }
            slots[key] = Slot(deliveries: deliveries, phase: .handling)
            actions.append(.handle(key, deliveries: deliveries))
        }
        return actions
    }

    /// After a read: a wanted claim goes first, else the next read.
    private mutating func nextRequest() -> [Action] {
        claimWanted ? claimIfPossible() + readIfPossible() : readIfPossible()
    }

    private mutating func claimIfPossible() -> [Action] {
        claimWanted = false
        guard !isStopping, !isClaiming, freeSlots > 0 else { return [] }
        isClaiming = true
        let count = freeSlots
        reserved += count
        return [.claim(count: count)]
    }

    private mutating func readIfPossible() -> [Action] {
        guard !isStopping, !isReading, !isClaiming, freeSlots >= minimumRead else { return [] }
        isReading = true
        let count = freeSlots
        reserved += count
        return [.read(count: count)]
    }

    private mutating func finishIfDrained() -> [Action] {
        guard isStopping, !hasFinished, slots.isEmpty, reserved == 0, !isReading else { return [] }
        hasFinished = true
        return [.finished]
    }
}
