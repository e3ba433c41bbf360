import BusLoop

#if canImport(Glibc)
    import Glibc
#endif

/// SIGINT and SIGTERM, caught from the moment this is created until `wait()` returns them.
///
/// libevent delivers signals to one base at a time, so a process makes one of these, on its
/// main thread, before it starts anything a signal should stop.
package final class TerminationSignal {
    private let loop = EventLoop(name: "signals")
    private var received: Int32 = 0
    private var watcher: SignalWatcher?

    package init() {
        // A parent may have spawned us with these signals blocked (test runners, some
        // supervisors); threads started later inherit the main thread's mask, so unblock here.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        watcher = SignalWatcher(loop: loop, signals: [SIGINT, SIGTERM]) { [unowned self] number in
            self.received = number
            self.loop.stop()
        }
    }

    /// Blocks the calling thread until SIGINT or SIGTERM arrives; returns its number.
    package func wait() -> Int32 {
        loop.run()
        return received
    }

    /// "SIGTERM", "SIGINT" or the number.
    package static func name(_ number: Int32) -> String {
        switch number {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        default: "signal \(number)"
        }
    }
}
