#if canImport(Glibc)
    import Glibc
#endif

/// A dedicated OS thread that runs one `EventLoop` until the loop stops.
package final class LoopThread: @unchecked Sendable {
    // @unchecked Sendable: `thread` is written once in start() and read in join(), both on the
    // controlling thread.
    package let loop: EventLoop
    private var thread: pthread_t?

    package init(loop: EventLoop) {
        self.loop = loop
    }

    /// Starts the thread; the loop runs on it until `loop.stop()`.
    package func start() {
        precondition(thread == nil, "LoopThread started twice")
        // The box is retained for the new thread and released by it once it has the loop.
        let box = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let status = pthread_create(
            &handle, nil,
            { arg in
                // Loop threads take no asynchronous signals: SIGINT/SIGTERM belong to the thread
                // waiting in `TerminationSignal`, and libdispatch watches SIGCHLD (for
                // Foundation's Process) through a signalfd, which only works if no thread can
                // receive the signal itself.
                var all = sigset_t()
                sigfillset(&all)
                pthread_sigmask(SIG_BLOCK, &all, nil)
                let owner = Unmanaged<LoopThread>.fromOpaque(arg!).takeRetainedValue()
                owner.loop.run()
                return nil
            }, box)
        precondition(status == 0, "pthread_create failed: \(status)")
        thread = handle
    }

    /// Waits for the loop's thread to end (after `loop.stop()`).
    package func join() {
        guard let thread else { return }
        pthread_join(thread, nil)
        self.thread = nil
    }
}
