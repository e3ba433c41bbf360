import CLibEvent
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One libevent `event_base` driven by exactly one thread.
///
/// Everything created on a loop (timers, HTTP servers, Redis connections) must be used only on
/// that loop's thread once the loop runs; `execute(_:)` and `stop()` are the only members that
/// may be called from any thread.
public final class EventLoop: @unchecked Sendable {
    // @unchecked Sendable: `base` is touched from other threads only through libevent's
    // thread-safe entry points (event_active, event_base_loopbreak), enabled by
    // `evthread_use_pthreads()` before the first base exists. `tasks` is behind a Mutex.
    // `resolver` is loop-confined (asserted in `nameResolver`).

    /// A human name for logs ("gateway-0").
    @usableFromInline package let name: String

    /// The libevent base. Only wrapper modules (HTTP, Redis, Postgres) should touch it.
    @_spi(LoopInternals) public let base: OpaquePointer

    private let tasks = Mutex<[@Sendable () -> Void]>([])
    private var wakeEvent: OpaquePointer?
    private let ownerThread = Atomic<UInt>(0)
    private var resolver: NameResolver?

    /// Where this loop's `nameResolver` finds its nameservers; set before the first lookup.
    /// Default: `/etc/resolv.conf`, or the file in `BIOMEBUS_RESOLV_CONF`.
    package var resolverConfiguration = NameResolver.Configuration.fromEnvironment

    /// This loop's asynchronous resolver (made on first use). Only on the loop's thread.
    package var nameResolver: NameResolver {
        assertInLoop()
        if let resolver { return resolver }
        let made = NameResolver(loop: self, configuration: resolverConfiguration)
        resolver = made
        return made
    }

    /// Creates a loop. Call from any thread; run it with `run()` on the thread that will own it.
    package init(name: String) {
        Self.enableThreadSupport
        // The epoll changelist defers epoll_ctl calls to the end of each loop iteration and
        // drops add/delete pairs that cancel out; hiredis adds and drops write interest around
        // each command, so this saves syscalls on every request.
        let config = event_config_new()
        event_config_set_flag(config, Int32(EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST.rawValue))
        let made = event_base_new_with_config(config)
        event_config_free(config)
        guard let base = made else {
            fatalError("event_base_new failed: out of memory or no usable backend")
        }
        self.name = name
        self.base = base
        // The wake event's argument is an unretained pointer to self: the event is freed in
        // deinit, so it can never fire for a released loop.
        wakeEvent = event_new(
            base, -1, Int16(EV_PERSIST),
            { _, _, arg in
                Unmanaged<EventLoop>.fromOpaque(arg!).takeUnretainedValue().runPendingTasks()
            }, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        // The wake event goes first: its argument is this loop, and the resolver's shutdown may
        // run the base once more. The resolver goes before the base, which its events live on.
        if let wakeEvent { event_free(wakeEvent) }
        resolver?.shutDown(base: base)
        event_base_free(base)
    }

    /// `evthread_use_pthreads()` must run before any base is made, or cross-thread wake-ups
    /// (stop, execute) are not noticed by an idle loop. A static `let` runs it exactly once.
    private static let enableThreadSupport: Void = {
        _ = evthread_use_pthreads()
        // evbuffer and hiredis write with plain write(2): a peer that went away must give EPIPE,
        // not kill the process.
        signal(SIGPIPE, SIG_IGN)
    }()

    /// Runs the loop on the calling thread until `stop()`; that thread owns the loop from now on.
    package func run() {
        ownerThread.store(UInt(bitPattern: Int(bitPattern: UInt(pthread_self()))), ordering: .releasing)
        event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY)
        runPendingTasks()
    }

    /// Makes `run()` return after the current callback. Safe from any thread.
    package func stop() {
        event_base_loopbreak(base)
    }

    /// Runs `task` on the loop's thread, soon. Safe from any thread. Not for the hot path: it
    /// takes a lock, which is fine for control work (start, drain, stop).
    package func execute(_ task: @escaping @Sendable () -> Void) {
        tasks.withLock { $0.append(task) }
        event_active(wakeEvent, 0, 0)
    }

    /// True on the thread running this loop.
    @usableFromInline package var inLoop: Bool {
        ownerThread.load(ordering: .acquiring) == UInt(bitPattern: Int(bitPattern: UInt(pthread_self())))
    }

    /// Traps in debug builds when called off the loop thread. C callbacks are not checked by the
    /// compiler for their thread, so wrappers assert affinity at their entry points.
    @inlinable
    package func assertInLoop(file: StaticString = #fileID, line: UInt = #line) {
        assert(inLoop || !isRunningOrStarted, "\(name) used off its thread", file: file, line: line)
    }

    /// Before `run()`, the creating thread may set up the loop's objects.
    @usableFromInline
    var isRunningOrStarted: Bool { ownerThread.load(ordering: .acquiring) != 0 }

    private func runPendingTasks() {
        let batch = tasks.withLock { queued -> [@Sendable () -> Void] in
            defer { queued.removeAll() }
            return queued
        }
        for task in batch { task() }
    }
}
