import BusHTTP
import BusLoop

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a service: N event loops, each on its own thread with one worker, bound together to one
/// port (SO_REUSEPORT), started together and drained together.
package final class ServiceHost: @unchecked Sendable {
    // @unchecked Sendable: each worker is reached only through its loop (LoopBound).
    private let workers: [LoopBound<any ServiceWorker>]
    private let threads: [LoopThread]
    private let drainTimeout: Duration
    /// The port bound (differs from the configured one when that is 0); nil without a listener.
    package let port: Int?

    /// Builds `count` loops named `<name>-<index>` and a worker on each. With `listen`, the first
    /// worker binds it (picking a port when it is 0) and the others share that port. Throws if
    /// it cannot be bound, or if another process already listens there (SO_REUSEPORT would
    /// otherwise share the port with it silently); that check runs before any worker is built.
    package init(
        name: String, count: Int, listen: ListenAddress?, drainTimeout: Duration,
        makeWorker: (_ index: Int, _ loop: EventLoop) -> any ServiceWorker
    ) throws(BindError) {
        try listen?.ensureNoListener()
        var address = listen
        var workers: [LoopBound<any ServiceWorker>] = []
        var threads: [LoopThread] = []
        for index in 0..<count {
            let loop = EventLoop(name: "\(name)-\(index)")
            let worker = makeWorker(index, loop)
            if let bindTo = address { address?.port = try worker.bind(bindTo) }
            workers.append(LoopBound(worker, loop: loop))
            threads.append(LoopThread(loop: loop))
        }
        self.workers = workers
        self.threads = threads
        self.drainTimeout = drainTimeout
        port = address?.port
    }

    /// Starts the loops; each runs its worker's `start()` first.
    package func start() {
        for worker in workers {
            worker.loop.execute { worker.value.start() }
        }
        for thread in threads { thread.start() }
    }

    /// Drains every worker (at most the drain timeout), closes it, stops its loop, and joins the
    /// loop threads. Blocks; call from outside the loops, once, after `start()`.
    package func shutdown() {
        for worker in workers {
            worker.loop.execute { [drainTimeout] in
                let value = worker.value
                worker.loop.completeOnce(within: drainTimeout, value.drain(then:)) {
                    value.close()
                    worker.loop.stop()
                }
            }
        }
        for thread in threads { thread.join() }
    }

    /// The machine's online CPU count (the default number of loops).
    package static var processorCount: Int {
        max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }
}
