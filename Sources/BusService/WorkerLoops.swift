import BusHTTP
import BusLoop

#if canImport(Glibc)
    import Glibc
#endif

/// N event loops, each on its own thread, each running one worker of type `Worker`.
///
/// Workers are built on the calling thread before their loops start (so setup such as binding
/// can fail synchronously); from `start()` on, only their own loop touches them.
public final class WorkerLoops<Worker>: @unchecked Sendable {
    // @unchecked Sendable: `workers` are reached only through their loops (LoopBound).
    public let workers: [LoopBound<Worker>]
    private let threads: [LoopThread]

    /// Builds `count` loops named `<name>-<index>` and a worker on each.
    public init(name: String, count: Int, makeWorker: (_ index: Int, _ loop: EventLoop) throws -> Worker) rethrows {
        var workers: [LoopBound<Worker>] = []
        var threads: [LoopThread] = []
        for index in 0..<count {
            let loop = EventLoop(name: "\(name)-\(index)")
            workers.append(LoopBound(try makeWorker(index, loop), loop: loop))
            threads.append(LoopThread(loop: loop))
        }
        self.workers = workers
        self.threads = threads
    }

    /// Builds `count` loops whose workers listen on `address`: the first binds it (picking a
    /// port when it is 0) and the others share that port through SO_REUSEPORT. Throws if it
    /// cannot be bound, or if another process already listens there (SO_REUSEPORT would
    /// otherwise share the port with it silently). Returns the loops and the bound port.
    public static func listening(
        name: String, count: Int, on address: ListenAddress, makeWorker: (_ index: Int, _ loop: EventLoop) -> Worker,
        bind: (Worker, ListenAddress) throws(BindError) -> Int
    ) throws(BindError) -> (loops: WorkerLoops, port: Int) {
        try address.ensureNoListener()
        var address = address
        do {
            let loops = try WorkerLoops(name: name, count: count) { index, loop in
                let worker = makeWorker(index, loop)
                address.port = try bind(worker, address)
                return worker
            }
            return (loops, address.port)
        } catch let error as BindError {
            throw error
        } catch {
            fatalError("only binding can fail here, not \(error)")
        }
    }

    public func start() {
        for thread in threads { thread.start() }
    }

    /// Runs `stop` for every worker on its loop; each calls `done` when it has finished, after
    /// which its loop stops. Blocks until every loop thread has ended.
    public func stop(_ stop: @escaping @Sendable (Worker, _ done: @escaping () -> Void) -> Void) {
        for worker in workers {
            worker.loop.execute {
                stop(worker.value) { worker.loop.stop() }
            }
        }
        for thread in threads { thread.join() }
    }

    /// The machine's online CPU count (the default number of loops).
    public static var processorCount: Int {
        max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }
}
