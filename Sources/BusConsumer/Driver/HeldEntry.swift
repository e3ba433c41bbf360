import BusLoop

/// What the driver keeps for one entry the state machine holds: the entry's fields (for the
/// handler and the dead-letter copy) and the timers running for it. A record exists exactly
/// while the machine holds the key (`RegionConsumer` asserts this after every step).
struct HeldEntry {
    var fields: [String: String]
    /// Fires the handler timeout of the run out now.
    var handlerTimer: LoopTimer?
    /// When the run out now started (monotonic nanoseconds), for the handler duration.
    var handlerStartedAt: UInt64?
    /// Fires when the backoff before the next retry has passed; reused across retries.
    var retryTimer: LoopTimer?

    init(fields: [String: String]) {
        self.fields = fields
    }

    /// Disarms and drops both timers, so none can fire for a released entry.
    mutating func cancelTimers() {
        handlerTimer?.cancel()
        handlerTimer = nil
        retryTimer?.cancel()
        retryTimer = nil
    }

    /// Whether a timer is armed (tests check that settled entries leave none behind).
    var hasArmedTimer: Bool {
        (handlerTimer?.isScheduled ?? false) || (retryTimer?.isScheduled ?? false)
    }
}
