import BusLoop
import BusPostgres
import BusTesting
import Foundation
import Testing

/// libpq pipeline mode (`pipelineDepth` > 1) against a real Postgres: several statements in flight
/// on one connection, each its own transaction, answers in order; and every statement in flight
/// answered, none hanging, when the session dies or times out mid-pipeline.
@Suite("Postgres pipeline mode against a real server")
struct PostgresPipelineTests {
    private func pipelinedHarness(_ server: PostgresCluster, depth: Int) -> PostgresHarness {
        PostgresHarness(server: server, maxConnections: 1) { $0.connection.pipelineDepth = depth }
    }

    /// Issues `count` statements at once on the loop (prepared under `name` when set) and
    /// returns the pool's counts right after issuing them, then the results in issue order.
    private func issue(
        _ harness: PostgresHarness, _ count: Int, name: String? = nil, timeout: Duration? = nil,
        _ statement: @escaping @Sendable (Int) -> (sql: String, parameters: [String?])
    ) async -> (PostgresPool.Statistics, [Result<PostgresResult, PostgresError>]) {
        await harness.onLoop { pool, done in
            // Loop-confined collection of the results.
            final class Collector {
                var results: [Result<PostgresResult, PostgresError>?]
                var remaining: Int
                var statistics: PostgresPool.Statistics?
                init(_ count: Int) {
                    results = Array(repeating: nil, count: count)
                    remaining = count
                }
            }
            let collector = Collector(count)
            for index in 0..<count {
                let (sql, parameters) = statement(index)
                pool.query(sql, parameters, statementName: name, timeout: timeout) { result in
                    collector.results[index] = result
                    collector.remaining -= 1
                    if collector.remaining == 0 { done((collector.statistics!, collector.results.map { $0! })) }
                }
            }
            collector.statistics = pool.statistics
        }
    }

    @Test("statements share one connection at once, each its own transaction, answers in order")
    func pipelinedStatements() async throws {
        let server = try await PostgresCluster.shared()
        let harness = pipelinedHarness(server, depth: 8)
        // Connected (and the statement prepared) before the burst.
        let pid = try #require(try await harness.query("SELECT pg_backend_pid() AS pid").get().first?.int("pid"))

        let (statistics, results) = await issue(harness, 8, name: "pipelined_divide") { index in
            // The fourth divides by zero: only its own transaction fails.
            ("SELECT 12 / $1::int AS quotient, pg_backend_pid() AS pid", [index == 3 ? "0" : "1"])
        }
        // All eight in flight on the one connection: nobody waited for a lease.
        #expect(statistics.waiting == 0 && statistics.inUse == 1, "\(statistics)")
        for (index, result) in results.enumerated() {
            if index == 3 {
                #expect(result.error?.sqlState == "22012")
            } else {
                let row = try result.get().first
                #expect(try row?.int("quotient") == 12)
                #expect(try row?.int("pid") == pid)
            }
        }
        let prepared = await harness.query(
            "SELECT count(*) AS n FROM pg_prepared_statements WHERE name = 'pipelined_divide'")
        #expect(try prepared.get().first?.int("n") == 1)
        #expect(await harness.statistics == .init(connections: 1, idle: 1, inUse: 0, waiting: 0, up: 1))
    }

    @Test("a backend terminated mid-pipeline fails every statement in flight at once; the pool reconnects")
    func backendKilledMidPipeline() async throws {
        let server = try await PostgresCluster.shared()
        let harness = pipelinedHarness(server, depth: 6)
        let name = harness.applicationName
        let pid = try #require(try await harness.query("SELECT pg_backend_pid() AS pid").get().first?.int("pid"))

        // Six sleeps in flight; the first is running when its backend is terminated.
        // Sleeps and timeouts far above the bounds below: a test process starved of threads by
        // the rest of the suite (seen: 18 s) must not turn "promptly" into "after the sleep".
        async let burst = issue(harness, 6, timeout: .seconds(300)) { _ in ("SELECT pg_sleep(200)", []) }
        let running = "SELECT count(*) FROM pg_stat_activity WHERE application_name = '\(name)' AND state = 'active'"
        #expect(await Polling.waitUntilAsync(timeout: .seconds(30)) { (try? server.psql(running)) == "1" })
        let started = ContinuousClock.now
        #expect(try server.psql("SELECT pg_terminate_backend(\(pid))") == "t")
        let (_, results) = await burst
        let took = ContinuousClock.now - started

        // Every statement answered long before its timeout, each with a transient error (503).
        #expect(took < .seconds(60), "answered after \(took)")
        #expect(results.count == 6)
        for result in results {
            let error = try #require(result.error)
            #expect(error.isTransient && error != .timedOut, "\(error)")
        }
        let next = await harness.query("SELECT pg_backend_pid() AS pid", leaseTimeout: .seconds(10))
        let newPID = try #require(try next.get().first?.int("pid"))
        #expect(newPID != pid)
    }

    @Test("a statement past its timeout mid-pipeline ends its session: it and those behind it fail promptly")
    func timeoutMidPipeline() async throws {
        let server = try await PostgresCluster.shared()
        let harness = pipelinedHarness(server, depth: 4)
        #expect(await harness.query("SELECT 1").value != nil)

        let started = ContinuousClock.now
        let (_, results) = await issue(harness, 3, timeout: .milliseconds(300)) { index in
            (index == 0 ? "SELECT pg_sleep(120)" : "SELECT 1", [])
        }
        let took = ContinuousClock.now - started
        // Far below the sleep, with room for a test process starved of threads by the suite.
        #expect(took < .seconds(60), "answered after \(took)")
        #expect(results[0].error == .timedOut)
        for result in results.dropFirst() {
            let error = try #require(result.error)
            #expect(error == .timedOut || error == .connectionLost, "\(error)")
        }
        let next = await harness.query("SELECT 2 AS two", leaseTimeout: .seconds(10))
        #expect(try next.get().first?.int("two") == 2)
    }
}
