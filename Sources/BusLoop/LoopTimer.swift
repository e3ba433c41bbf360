import CLibEvent

#if canImport(Glibc)
    import Glibc
#endif

/// A one-shot timer on an event loop; `schedule(after:)` (re)arms it, and
/// `fireAfterPendingCallbacks()` makes it due at once, after the callbacks already pending in
/// this loop iteration: for work that gathers what those callbacks produce (requests read from
/// many sockets in one pass) and acts on it once.
///
/// Use it only on its loop's thread. Dropping the timer cancels it.
package final class LoopTimer {
    private let loop: EventLoop
    private var event: OpaquePointer?
    private let handler: () -> Void

    /// Creates an unarmed timer whose `handler` runs on `loop`'s thread each time it fires.
    package init(loop: EventLoop, handler: @escaping () -> Void) {
        self.loop = loop
        self.handler = handler
        // The event's argument is an unretained pointer to self; deinit frees the event first,
        // so libevent never calls back into a released timer.
        event = event_new(
            loop.base, -1, 0,
            { _, _, arg in
                // Held for the whole call: a handler may drop the last other reference to its
                // own timer (a one-shot deadline cleaning up after itself).
                let timer = Unmanaged<LoopTimer>.fromOpaque(arg!).takeUnretainedValue()
                withExtendedLifetime(timer) { timer.handler() }
            }, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        if let event { event_free(event) }
    }

    /// Arms the timer to fire once after `delay`, replacing an earlier schedule.
    package func schedule(after delay: Duration) {
        loop.assertInLoop()
        var tv = timeval(delay)
        event_add(event, &tv)
    }

    /// Fires the timer once after the callbacks already pending in this loop iteration, before
    /// the loop waits again. libevent runs the active events of a priority in the order they were
    /// activated and keeps taking from that queue until it is empty, and the loop's events share
    /// one priority, so an event activated now runs after every callback queued before it.
    /// Calling it again before it fired does nothing (an active event is not queued twice);
    /// calling it from the handler fires again in the same pass.
    package func fireAfterPendingCallbacks() {
        loop.assertInLoop()
        event_active(event, Int32(EV_TIMEOUT), 0)
    }

    /// Disarms the timer; harmless when it is not armed.
    package func cancel() {
        loop.assertInLoop()
        event_del(event)
    }

    /// True while armed (or due) and not yet fired.
    package var isScheduled: Bool {
        event_pending(event, Int16(EV_TIMEOUT), nil) != 0
    }
}

extension timeval {
    /// A `timeval` for a non-negative duration (negative ones become zero).
    package init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 {
            self.init(tv_sec: 0, tv_usec: 0)
        } else {
            self.init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        }
    }
}

extension EventLoop {
    /// Calls `then` exactly once, on this loop: when `work` reports completion or after
    /// `timeout`, whichever comes first (a shutdown drain bounded by a deadline).
    package func completeOnce(
        within timeout: Duration, _ work: (_ completion: @escaping () -> Void) -> Void, then: @escaping () -> Void
    ) {
        assertInLoop()
        // The timer and the flag live in this box until the first of the two fires; the timer's
        // handler holds the box, and the box drops the timer when done, ending the cycle.
        final class Once {
            var timer: LoopTimer?
            var then: (() -> Void)?
        }
        let once = Once()
        once.then = then
        let finish = {
            guard let then = once.then else { return }
            once.then = nil
            once.timer?.cancel()
            once.timer = nil
            then()
        }
        once.timer = LoopTimer(loop: self, handler: finish)
        once.timer?.schedule(after: timeout)
        work(finish)
    }
}
