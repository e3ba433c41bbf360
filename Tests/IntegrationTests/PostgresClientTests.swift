import BusLoop
import BusPostgres
import BusTesting
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// BusPostgres against a real Postgres: statements, errors, timeouts, the pool bound, leases.
/// These share one server; each test works in its own table.
@Suite("Postgres client against a real server")
struct PostgresClientTests {
    private static func uniqueTable(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
    }

    @Test("a pool that is down refuses a lease at once, and publishes that outcome before answering")
    func downPoolPublishesItsRefusal() async throws {
        // Readiness is the outcome published last by any loop's pool; a refusal that published
        // nothing left another loop's older success standing while this one answered 503.
        let events = Mutex<[String]>([])
        var connection = PostgresConfiguration(url: "postgresql://127.0.0.1:\(LoopbackPorts.freePort())/none")
        connection.connectTimeout = .seconds(5)
        connection.reconnectBackoff = ReconnectBackoff(initial: .seconds(60), maximum: .seconds(60))  // stays down
        let harness = PostgresHarness(
            configuration: PostgresPoolConfiguration(connection: connection, maxConnections: 1)
        ) {
            reachable in events.withLock { $0.append("outcome \(reachable)") }
        }
        defer { harness.shutdown() }
        for _ in 0..<2 {
            let result = await harness.query("SELECT 1")
            guard case .failure(.unavailable) = result else {
                Issue.record("expected .unavailable, got \(result)")
                return
            }
            events.withLock { $0.append("answered") }
        }
        // The first refusal is the failed connect's; the second is the pool's own, at once.
        #expect(events.withLock { $0 } == ["outcome false", "answered", "outcome false", "answered"])
    }

    @Test("parameters go in as text, NULLs and quotes intact; typed accessors decode the row")
    func parametersAndDecoding() async throws {
        let server = try await PostgresCluster.shared()
        let harness = PostgresHarness(server: server)
        let table = Self.uniqueTable("chests")
        try server.psql(
            "CREATE TABLE \(table) (id text PRIMARY KEY, version bigint NOT NULL, active boolean NOT NULL, note text)")

        let insert = await harness.query(
            "INSERT INTO \(table) (id, version, active, note) VALUES ($1, $2, $3, $4), ($5, $6, $7, $8)",
            ["c-1", "7", "true", nil, "c-'2\"", "9", "f", "Grüße; DROP TABLE x"])
        #expect(insert.value?.affectedRows == 2)
        #expect(insert.value?.commandTag == "INSERT 0 2")

        let selected = await harness.query(
            "SELECT id, version, active, note FROM \(table) WHERE version >= $1 ORDER BY id", ["1"])
        let rows = try #require(selected.value).rows
        #expect(rows.count == 2)
        #expect(try rows[0].string("id") == "c-'2\"")
        #expect(try rows[0].int64("version") == 9)
        #expect(try rows[0].bool("active") == false)
        #expect(rows[0]["note"] == "Grüße; DROP TABLE x")
        #expect(try rows[1].int64("version") == 7)
        #expect(try rows[1].bool("active"))
        #expect(rows[1].isNull("note"))

        let updated = await harness.query(
            "UPDATE \(table) SET version = version + 1 WHERE id = $1 AND version = $2 RETURNING version", ["c-1", "7"])
        #expect(updated.value?.affectedRows == 1)
        #expect(try updated.value?.first?.int64("version") == 8)
        let missed = await harness.query("UPDATE \(table) SET version = 0 WHERE id = $1", ["nope"])
        #expect(missed.value?.affectedRows == 0)
    }

    @Test("server errors carry their SQLSTATE and leave the connection usable")
    func serverErrors() async throws {
        let server = try await PostgresCluster.shared()
        let harness = PostgresHarness(server: server, maxConnections: 1)

        let missing = await harness.query("SELECT * FROM no_such_table_\(UUID().uuidString.prefix(8))")
        #expect(missing.error?.sqlState == "42P01")
        if case .server(_, let message)? = missing.error { #expect(message.contains("does not exist")) }

        #expect(await harness.query("SELEC 1").error?.sqlState == "42601")
        #expect(await harness.query("SELECT $1::int", ["twelve"]).error?.sqlState == "22P02")

        let table = Self.uniqueTable("uniq")
        try server.psql("CREATE TABLE \(table) (id int PRIMARY KEY)")
        #expect(await harness.query("INSERT INTO \(table) VALUES (1)").value != nil)
        let duplicate = await harness.query("INSERT INTO \(table) VALUES (1)")
        #expect(duplicate.error?.isUniqueViolation == true)

        #expect(try await harness.query("SELECT 41 + 1 AS answer").get().first?.int("answer") == 42)
    }

    @Test("a statement past its timeout fails with .timedOut quickly, and the pool recovers")
    func queryTimeout() async throws {
        let server = try await PostgresCluster.shared()
        let harness = PostgresHarness(server: server, maxConnections: 1)
        #expect(await harness.query("SELECT 1").value != nil)

        let (result, took) = await harness.timedQuery("SELECT pg_sleep(5)", timeout: .milliseconds(300))
        #expect(result.error == .timedOut)
        #expect(took >= .milliseconds(300) && took < .milliseconds(1500), "timed out after \(took)")

        // The only connection was recycled; the next statement waits for the reconnect.
        let next = await harness.query("SELECT 2 AS two", leaseTimeout: .seconds(5))
        #expect(try next.get().first?.int("two") == 2)
        #expect(await harness.statistics.connections == 1)
    }

    @Test("each statement keeps its own deadline: an earlier statement's deadline passing does not end it")
    func deadlinePerStatement() async throws {
        // The query timer stays armed from one statement to the next; when the first
        // statement's deadline passes during the second, the second must run on to its own.
        let harness = PostgresHarness(server: try await PostgresCluster.shared(), maxConnections: 1)
        #expect(await harness.query("SELECT 1", timeout: .seconds(1)).value != nil)
        try await Task.sleep(for: .milliseconds(600))
        let (slow, took) = await harness.timedQuery("SELECT pg_sleep(0.8)", timeout: .seconds(5))
        #expect(slow.value != nil, "\(slow) after \(took)")
        // And a statement past its own deadline still ends at it.
        #expect(await harness.query("SELECT 1", timeout: .seconds(5)).value != nil)
        let (late, lateTook) = await harness.timedQuery("SELECT pg_sleep(5)", timeout: .milliseconds(300))
        #expect(late.error == .timedOut)
        #expect(lateTook >= .milliseconds(300) && lateTook < .milliseconds(3000), "timed out after \(lateTook)")
    }

    @Test("with client_connection_check_interval in the URL the server ends a timed-out statement soon")
    func abandonedStatementEndsServerSide() async throws {
        let server = try await PostgresCluster.shared()
        let harness = PostgresHarness(
            server: server, maxConnections: 1,
            urlParameters: ["options": "-c%20client_connection_check_interval%3D100"])
        let name = harness.applicationName
        let setting = await harness.query("SHOW client_connection_check_interval")
        #expect(setting.value?.first?["client_connection_check_interval"] == "100ms")

        #expect(await harness.query("SELECT pg_sleep(5)", timeout: .milliseconds(300)).error == .timedOut)
        let sleeping =
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '\(name)' AND query LIKE '%pg_sleep(5)'"
        #expect(await Polling.waitUntilAsync(timeout: .seconds(3)) { (try? server.psql(sleeping)) == "0" })
    }

    @Test("200 statements through a pool of 4 never hold more than 4 sessions")
    func poolBound() async throws {
        let server = try await PostgresCluster.shared()
        let harness = PostgresHarness(server: server, maxConnections: 4) { $0.leaseTimeout = .seconds(20) }
        let name = harness.applicationName
        // Each statement counts the pool's sessions while it runs, so the whole run is sampled.
        let results = await harness.queries(200) { _ in
            (
                "SELECT (SELECT count(*) FROM pg_stat_activity WHERE application_name = $1) AS sessions, pg_sleep(0.002)",
                [name]
            )
        }.map(\.result)
        let sessions = results.compactMap { try? $0.get().first?.int("sessions") }
        #expect(sessions.count == 200, "failures: \(results.compactMap(\.error).prefix(3))")
        #expect(sessions.max() ?? 0 <= 4)
        #expect(sessions.max() == 4, "200 queued statements should use every connection")
        #expect(try server.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = '\(name)'") == "4")
        let statistics = await harness.statistics
        #expect(statistics == .init(connections: 4, idle: 4, inUse: 0, waiting: 0, up: 4))
    }

    @Test("waiters past the lease deadline get .poolExhausted while every connection is busy")
    func waitersExpire() async throws {
        let server = try await PostgresCluster.shared()
        let harness = PostgresHarness(server: server, maxConnections: 2) {
            $0.minConnections = 2
            $0.leaseTimeout = .milliseconds(300)
            $0.maxWaiters = 3
        }
        let name = harness.applicationName
        #expect(await Polling.waitUntilAsync { await harness.statistics.up == 2 })
        let results = await harness.queries(6, timeout: .seconds(5)) { index in
            index < 2 ? ("SELECT pg_sleep(2)", []) : ("SELECT 1", [])
        }
        #expect(results[0].result.value != nil)
        #expect(results[1].result.value != nil)
        // Two held the connections; three waited out their 300 ms deadline (long before a
        // connection came free); the sixth found the queue full and failed at once.
        for waiter in results[2...4] {
            #expect(waiter.result.error == .poolExhausted)
            #expect(
                waiter.took >= .milliseconds(300) && waiter.took < .milliseconds(1500), "expired after \(waiter.took)")
        }
        #expect(results[5].result.error == .poolExhausted)
        #expect(results[5].took < .milliseconds(300))
        #expect(try server.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = '\(name)'") == "2")
        #expect(await harness.statistics.connections == 2)
    }

    @Test("a lease runs a transaction on one session; a lease dropped inside one is rolled back")
    func leasesAndTransactions() async throws {
        let server = try await PostgresCluster.shared()
        let harness = PostgresHarness(server: server, maxConnections: 1)
        let table = Self.uniqueTable("tx")
        try server.psql("CREATE TABLE \(table) (id int PRIMARY KEY)")

        // BEGIN; INSERT; COMMIT on one lease.
        let committed: Result<PostgresResult, PostgresError> = await harness.onLoop { pool, done in
            pool.withConnection { leased in
                guard case .success(let lease) = leased else { return done(.failure(leased.error!)) }
                lease.query("BEGIN") { _ in
                    lease.query("INSERT INTO \(table) VALUES ($1)", ["1"]) { _ in
                        lease.query("COMMIT") { done($0) }
                    }
                }
            }
        }
        #expect(committed.value?.commandTag == "COMMIT")

        // BEGIN; INSERT; then the lease is dropped without COMMIT.
        let abandoned: Result<PostgresResult, PostgresError> = await harness.onLoop { pool, done in
            pool.withConnection { leased in
                guard case .success(let lease) = leased else { return done(.failure(leased.error!)) }
                lease.query("BEGIN") { _ in
                    lease.query("INSERT INTO \(table) VALUES ($1)", ["2"]) { done($0) }
                }
            }
        }
        #expect(abandoned.value?.affectedRows == 1)
        let rows = await harness.query("SELECT id FROM \(table) ORDER BY id")
        #expect(rows.value?.rows.map { $0["id"] } == ["1"])
        #expect(await harness.query("SELECT 1").value != nil, "the rolled-back session serves again")

        // A released lease refuses further statements.
        let afterRelease: Result<PostgresResult, PostgresError> = await harness.onLoop { pool, done in
            pool.withConnection { leased in
                guard case .success(let lease) = leased else { return done(.failure(leased.error!)) }
                lease.release()
                lease.query("SELECT 1") { done($0) }
            }
        }
        #expect(afterRelease.error == .unavailable)

        // Released while its statement runs: the connection goes back only once that ends, and
        // the caller waiting for it gets it then.
        let both: [Result<PostgresResult, PostgresError>] = await harness.onLoop { pool, done in
            // Both completions run on the loop, so a captured local collects them.
            var results: [Result<PostgresResult, PostgresError>] = []
            let finish: (Result<PostgresResult, PostgresError>) -> Void = { result in
                results.append(result)
                if results.count == 2 { done(results) }
            }
            pool.withConnection { leased in
                guard case .success(let lease) = leased else { return finish(.failure(leased.error!)) }
                lease.query("SELECT pg_sleep(0.2), 'first' AS which") { finish($0) }
                lease.release()
                pool.query("SELECT 'second' AS which") { finish($0) }
            }
        }
        #expect(both.map { $0.value?.first?["which"] } == ["first", "second"])
    }

    @Test("named statements are prepared once per connection, then reused")
    func preparedStatements() async throws {
        let server = try await PostgresCluster.shared()
        let harness = PostgresHarness(server: server, maxConnections: 1)
        for value in 1...3 {
            let result = await harness.query(
                "SELECT $1::int * 2 AS doubled", [String(value)], statementName: "double_it")
            #expect(try result.get().first?.int("doubled") == value * 2)
        }
        let prepared = await harness.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE name = 'double_it'")
        #expect(try prepared.get().first?.int("n") == 1)
        let broken = await harness.query("SELEC $1", ["1"], statementName: "broken")
        #expect(broken.error?.sqlState == "42601")
        #expect(await harness.query("SELECT 1").value != nil)
    }

    @Test("results on one connection keep their own column names, however the statements alternate")
    func columnNamesPerResult() async throws {
        // One connection: each result's names are checked against the previous result's and
        // shared when equal, so alternating, same-count and prefix-sharing names must not mix.
        let harness = PostgresHarness(server: try await PostgresCluster.shared(), maxConnections: 1)
        let statements: [(sql: String, columns: [String])] = [
            ("SELECT 1 AS a, 2 AS b", ["a", "b"]),
            ("SELECT 1 AS a, 2 AS b", ["a", "b"]),
            ("SELECT 1 AS a, 2 AS c", ["a", "c"]),
            ("SELECT 1 AS ab, 2 AS c", ["ab", "c"]),
            ("SELECT 1 AS a, 2 AS bc", ["a", "bc"]),
            ("SELECT 1 AS a", ["a"]),
            ("SELECT 1 AS a, 2 AS b, 3 AS a", ["a", "b", "a"]),
            ("SELECT 1 AS \"ä x\", 2 AS b", ["ä x", "b"]),
            ("SELECT 1 AS a, 2 AS b", ["a", "b"]),
        ]
        for (sql, columns) in statements {
            let result = try await harness.query(sql).get()
            #expect(result.columns == columns, "\(sql)")
            #expect(result.first?[columns[0]] == "1", "\(sql)")
            #expect(result.first?[columns[1 % columns.count]] == (columns.count > 1 ? "2" : "1"), "\(sql)")
        }
        let empty = try await harness.query("SELECT 1 AS a, 2 AS b WHERE false").get()
        #expect(empty.columns == ["a", "b"] && empty.rows.isEmpty && empty.affectedRows == 0)
    }

    @Test("server notices reach the notice handler, not stderr")
    func notices() async throws {
        let server = try await PostgresCluster.shared()
        let harness = PostgresHarness(server: server, maxConnections: 1)
        let result = await harness.query("DO $$ BEGIN RAISE NOTICE 'chest % opened', 7; END $$")
        #expect(result.value != nil, "\(result)")
        #expect(harness.receivedNotices.contains { $0.contains("chest 7 opened") })
    }

    @Test("sessions get statement_timeout and lock_timeout just under the client's deadline, plus the URL's options")
    func serverSideTimeouts() async throws {
        let harness = await PostgresHarness(
            server: try PostgresCluster.shared(), maxConnections: 1,
            urlParameters: ["options": "-c%20search_path%3Dpg_catalog"]
        ) { $0.connection.queryTimeout = .milliseconds(500) }
        let settings = await harness.query(
            "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), current_setting('search_path')"
        )
        #expect(settings.value?.rows.first?.values == ["450ms", "450ms", "pg_catalog"])

        // The server cancels the statement before the client's deadline: a transient server
        // error on a connection that stays up, not a dropped connection.
        let slow = await harness.query("SELECT pg_sleep(5)")
        #expect(slow.error?.sqlState == "57014")
        #expect(slow.error?.isTransient == true)
        #expect(await harness.query("SELECT 1").value != nil)
        #expect(await harness.statistics.connections == 1)
    }

    @Test("a server that accepts TCP but never answers fails the connect after the connect timeout")
    func connectTimeout() async throws {
        // A listening socket nobody accepts from: the kernel completes the handshake, Postgres
        // never answers the startup packet.
        let (fd, port) = LoopbackPorts.listener()
        defer { close(fd) }

        var connection = PostgresConfiguration(url: "postgresql://postgres@127.0.0.1:\(port)/db?sslmode=disable")
        connection.connectTimeout = .milliseconds(300)
        var configuration = PostgresPoolConfiguration(connection: connection, maxConnections: 1)
        configuration.leaseTimeout = .seconds(5)
        let harness = PostgresHarness(configuration: configuration)
        let (result, took) = await harness.timedQuery("SELECT 1")
        #expect(result.error == .unavailable)
        #expect(took >= .milliseconds(250) && took < .seconds(2), "failed after \(took)")
        #expect(await harness.isHealthy == false)
    }
}

/// Postgres going away and coming back, on a server of its own.
@Suite("Postgres client: outages and recovery", .serialized)
struct PostgresOutageTests {
    /// Backends running a sleep (the statement in flight when the server stops).
    static let sleeping =
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active'"
    @Test("a backend the server terminates (57P01) fails its statement as a lost connection, pool already down")
    func terminatedBackend() async throws {
        let server = try await PostgresCluster.forTest()
        defer { server.shutdown() }
        let harness = PostgresHarness(server: server, maxConnections: 1) { $0.minConnections = 1 }
        #expect(await harness.query("SELECT 1").value != nil)

        // pg_terminate_backend sends the backend's client the same FATAL 57P01 a shutdown
        // does, then closes the socket. The pool must count the link as gone when it reads the
        // error, not only at the EOF after it.
        async let sleeping = harness.onLoop { pool, done in
            pool.query("SELECT pg_sleep(300)", timeout: .seconds(600)) { done(($0, pool.isHealthy)) }
        }
        #expect(await Polling.waitUntilAsync(timeout: .seconds(30)) { (try? server.psql(Self.sleeping)) == "1" })
        try server.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active'"
        )
        let (result, healthyWhenAnswered) = await sleeping
        #expect(result.error == .connectionLost, "\(String(describing: result.error))")
        #expect(!healthyWhenAnswered)
        #expect(await Polling.waitUntilAsync(timeout: .seconds(30)) { await harness.query("SELECT 1").value != nil })
    }

    @Test("with Postgres stopped statements fail fast; after a restart the same pool works again")
    func stopAndStart() async throws {
        let server = try await PostgresCluster.forTest()
        defer { server.shutdown() }
        let harness = PostgresHarness(server: server, maxConnections: 2) {
            $0.minConnections = 1
            $0.leaseTimeout = .seconds(2)
        }
        #expect(await harness.query("SELECT 1").value != nil)

        // A statement in flight when the server stops ends with .connectionLost, not a hang,
        // and by the time its caller hears of it the pool already reports not healthy (a
        // service answering 503 for it must not say "ready" on /readyz).
        // The sleep and its timeout are far longer than any delay before the stop: a test process
        // starved of threads by the rest of the suite once stopped the server 18 s late, and the
        // statement had met its server-side timeout by then. Its end is timed from the stop.
        async let sleeping = harness.onLoop { pool, done in
            pool.query("SELECT pg_sleep(300)", timeout: .seconds(600)) {
                done(($0, ContinuousClock.now, pool.isHealthy))
            }
        }
        #expect(await Polling.waitUntilAsync(timeout: .seconds(30)) { (try? server.psql(Self.sleeping)) == "1" })
        let stopping = ContinuousClock.now
        await server.stop()
        let (lost, lostAt, healthyWhenLost) = await sleeping
        let lostAfter = lostAt - stopping
        #expect(lost.error == .connectionLost)
        #expect(lostAfter < .seconds(30), "the in-flight statement ended \(lostAfter) after the stop")
        #expect(!healthyWhenLost)

        // New statements fail fast once the pool has seen its connections fail.
        var failures: [PostgresError] = []
        for _ in 0..<5 {
            let (result, took) = await harness.timedQuery("SELECT 1")
            #expect(took < .seconds(1), "a statement took \(took) while Postgres was down")
            if let error = result.error { failures.append(error) }
        }
        #expect(failures.count == 5)
        #expect(failures.allSatisfy { $0 == .unavailable || $0 == .connectionLost }, "\(failures)")
        #expect(await harness.isHealthy == false)

        // The bound is about "by itself", not speed: on a loaded CI run 10 s once fell short.
        try await server.start()
        let clock = ContinuousClock()
        let started = clock.now
        var lastError: PostgresError?
        var recovered = false
        while clock.now < started + .seconds(60) {
            let result = await harness.query("SELECT 1")
            if result.value != nil {
                recovered = true
                break
            }
            lastError = result.error
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(
            recovered,
            "the pool must reconnect by itself after Postgres restarts; still \(String(describing: lastError)) after \(clock.now - started)"
        )
        #expect(await harness.isHealthy)
        #expect(await harness.statistics.connections <= 2)
    }
}
