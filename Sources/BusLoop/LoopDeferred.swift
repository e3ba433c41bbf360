import CLibEvent

/// A call that runs once after the callbacks already pending in the loop's current iteration:
/// for work that gathers what those callbacks produce (requests read from many sockets in one
/// pass) and acts on it once.
///
/// `schedule()` activates a libevent event. libevent runs the active events of a priority in
/// the order they were activated, and keeps taking from that queue until it is empty, so one
/// activated now runs after every callback already queued in this iteration, before the loop
/// waits again; the loop's events share one priority. Scheduling it again before it ran does
/// nothing (an active event is not queued twice); scheduling it from its own handler runs it
/// again in the same pass.
///
/// Use it only on its loop's thread. Dropping it cancels a scheduled run.
package final class LoopDeferred {
    private let loop: EventLoop
    private var event: OpaquePointer?
    private let handler: () -> Void

    /// Creates an unscheduled call whose `handler` runs on `loop`'s thread each time it is due.
    package init(loop: EventLoop, handler: @escaping () -> Void) {
        self.loop = loop
        self.handler = handler
        // The event's argument is an unretained pointer to self; deinit frees the event first,
        // so libevent never calls back into a released object.
        event = event_new(
            loop.base, -1, 0,
            { _, _, arg in
                // Held for the whole call: the handler may drop the last other reference.
                let deferred = Unmanaged<LoopDeferred>.fromOpaque(arg!).takeUnretainedValue()
                withExtendedLifetime(deferred) { deferred.handler() }
            }, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        if let event { event_free(event) }
    }

    /// Runs the handler once after the callbacks pending now; harmless when already scheduled.
    package func schedule() {
        loop.assertInLoop()
        event_active(event, Int32(EV_TIMEOUT), 0)
    }

    /// True while scheduled and not yet run.
    package var isScheduled: Bool {
        event_pending(event, Int16(EV_TIMEOUT), nil) != 0
    }
}
