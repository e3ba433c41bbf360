import CLibEvent

#if canImport(Glibc)
    import Glibc
#endif

/// Delivers POSIX signals as callbacks on one event loop.
///
/// libevent routes signals to one base at a time, so a process keeps a single watcher, on its
/// control loop. Use it on that loop's thread.
package final class SignalWatcher {
    private var events: [OpaquePointer] = []
    private let handler: (Int32) -> Void
    /// Held so that the loop's base outlives the events: an owner that releases the loop before
    /// the watcher (stored properties go in declaration order) would free the base under them.
    private let loop: EventLoop

    /// Watches `signals` on `loop`; `handler` runs on the loop's thread with the signal number.
    package init(loop: EventLoop, signals: [Int32], handler: @escaping (Int32) -> Void) {
        self.handler = handler
        self.loop = loop
        for number in signals {
            // Unretained self as the argument: deinit frees the events before self goes away.
            let event = event_new(
                loop.base, number, Int16(EV_SIGNAL | EV_PERSIST),
                { signal, _, arg in
                    Unmanaged<SignalWatcher>.fromOpaque(arg!).takeUnretainedValue().handler(signal)
                }, Unmanaged.passUnretained(self).toOpaque())!
            event_add(event, nil)
            events.append(event)
        }
    }

    deinit {
        for event in events { event_free(event) }
    }
}
