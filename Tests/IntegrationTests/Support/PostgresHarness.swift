import BusLoop
import BusPostgres
import BusTesting
import Foundation
import Synchronization

/// A `PostgresPool` on its own event loop thread, driven from async tests: work is handed to
/// the loop with `execute` and completions come back through continuations. Shut down with
/// `shutdown()` (or on release).
final class PostgresHarness: @unchecked Sendable {
    // @unchecked Sendable: the pool is reached only on its loop (LoopBound); `isShutDown` only
    // from the test's task.
    let loop: EventLoop
    private let thread: LoopThread
    private let pool: LoopBound<PostgresPool>
    private let notices = NoticeLog()
    private var isShutDown = false

    init(configuration: PostgresPoolConfiguration, onOutcome: ((Bool) -> Void)? = nil) {
        loop = EventLoop(name: "postgres-test")
        let pool = PostgresPool(loop: loop, configuration: configuration)
        self.pool = LoopBound(pool, loop: loop)
        thread = LoopThread(loop: loop)
        // Set up before the loop runs, so no thread hop is needed.
        pool.onNotice = { [notices] notice in notices.append(notice) }
        pool.onOutcome = onOutcome
        pool.start()
        thread.start()
    }

    /// A pool on `server` with a unique application_name (to find its sessions in
    /// pg_stat_activity), extra URL query parameters (already percent-encoded), fast
    /// reconnects, and `configure` applied.
    convenience init(
        server: PostgresCluster, maxConnections: Int = 4, urlParameters: [String: String] = [:],
        configure: (inout PostgresPoolConfiguration) -> Void = { _ in }
    ) {
        let applicationName = "biomebus-test-\(UUID().uuidString.prefix(8).lowercased())"
        let parameters = urlParameters.merging(["application_name": applicationName]) { _, ours in ours }
        var connection = PostgresConfiguration(url: server.url(parameters: parameters))
        connection.reconnectBackoff = ReconnectBackoff(initial: .milliseconds(50), maximum: .milliseconds(300))
        // Generous defaults: a loaded 2-core machine can take a while to fork a backend. Tests
        // of the deadlines themselves set their own.
        connection.connectTimeout = .seconds(5)
        var configuration = PostgresPoolConfiguration(connection: connection, maxConnections: maxConnections)
        configuration.leaseTimeout = .seconds(10)
        configure(&configuration)
        self.init(configuration: configuration)
        self.applicationName = applicationName
    }

    /// The application_name the convenience initializer put in the URL.
    private(set) var applicationName = ""

    deinit {
        shutdown()
    }

    /// Server notices received so far.
    var receivedNotices: [String] { notices.all }

    /// Runs `body` on the loop with the pool and waits until it calls back.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable (PostgresPool, @escaping @Sendable (T) -> Void) -> Void) async
        -> T
    {
        await withCheckedContinuation { continuation in
            let pool = self.pool
            loop.execute {
                body(pool.value) { continuation.resume(returning: $0) }
            }
        }
    }

    /// One statement through `PostgresPool.query`.
    func query(
        _ sql: String, _ parameters: [String?] = [], statementName: String? = nil, timeout: Duration? = nil,
        leaseTimeout: Duration? = nil
    ) async -> Result<PostgresResult, PostgresError> {
        await onLoop { pool, done in
            pool.query(sql, parameters, statementName: statementName, timeout: timeout, leaseTimeout: leaseTimeout) {
                done($0)
            }
        }
    }

    /// One statement through `PostgresPool.query`, with how long it took as measured on the
    /// loop (from issue to completion), so a busy test thread pool does not inflate it.
    func timedQuery(
        _ sql: String, _ parameters: [String?] = [], timeout: Duration? = nil, leaseTimeout: Duration? = nil
    ) async -> (result: Result<PostgresResult, PostgresError>, took: Duration) {
        await onLoop { pool, done in
            let clock = ContinuousClock()
            let start = clock.now
            pool.query(sql, parameters, timeout: timeout, leaseTimeout: leaseTimeout) { done(($0, clock.now - start)) }
        }
    }

    /// `count` statements issued at once on the loop; results in issue order, each with how
    /// long it took as measured on the loop.
    func queries(
        _ count: Int, timeout: Duration? = nil, leaseTimeout: Duration? = nil,
        _ statement: @escaping @Sendable (Int) -> (sql: String, parameters: [String?])
    ) async -> [(result: Result<PostgresResult, PostgresError>, took: Duration)] {
        await onLoop { pool, done in
            // Loop-confined collection of the results.
            final class Collector {
                var results: [(result: Result<PostgresResult, PostgresError>, took: Duration)?]
                var remaining: Int
                init(_ count: Int) {
                    results = Array(repeating: nil, count: count)
                    remaining = count
                }
            }
            let collector = Collector(count)
            let clock = ContinuousClock()
            let start = clock.now
            for index in 0..<count {
                let (sql, parameters) = statement(index)
                pool.query(sql, parameters, timeout: timeout, leaseTimeout: leaseTimeout) { result in
                    collector.results[index] = (result, clock.now - start)
                    collector.remaining -= 1
                    if collector.remaining == 0 { done(collector.results.map { $0! }) }
                }
            }
        }
    }

    /// The pool's counts.
    var statistics: PostgresPool.Statistics {
        get async { await onLoop { pool, done in done(pool.statistics) } }
    }

    var isHealthy: Bool {
        get async { await onLoop { pool, done in done(pool.isHealthy) } }
    }

    /// Closes the pool on its loop, stops the loop and joins its thread. Idempotent.
    func shutdown() {
        guard !isShutDown else { return }
        isShutDown = true
        let pool = self.pool
        let loop = self.loop
        loop.execute {
            pool.value.close()
            loop.stop()
        }
        thread.join()
    }
}

/// Notices written on the loop thread and read by the test.
private final class NoticeLog: Sendable {
    private let storage = Mutex<[String]>([])

    func append(_ notice: String) { storage.withLock { $0.append(notice) } }

    var all: [String] { storage.withLock { $0 } }
}

extension Result {
    /// The success value, or nil.
    var value: Success? { try? get() }

    /// The failure, or nil.
    var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
