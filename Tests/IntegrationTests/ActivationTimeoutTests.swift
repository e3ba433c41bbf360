import BusPostgres
import BusTesting
import Foundation
import Testing

/// Statements the client gives up on must not keep running on the server, and database
/// trouble that a retry can clear is `503 database_unavailable` with `Retry-After`, never 500.
@Suite("Activation: server-side timeouts and transient SQLSTATEs")
struct ActivationTimeoutTests {
    @Test("an activation stuck behind a row lock is cancelled by the server: 503 + Retry-After, never committed later")
    func lockedRowIsCancelledServerSide() async throws {
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        try database.insertChest(id: "locked")
        let harness = try ActivationHarness(postgresURL: database.url, poolSize: 1, threads: 1) {
            $0.queryTimeout = .seconds(1)
        }
        // Another session holds the row, so the activation's UPDATE waits for the lock.
        let holder = try PostgresBlockingSession(url: database.url)
        try holder.execute("BEGIN")
        try holder.execute("SELECT 1 FROM treasure_chests WHERE biome_id = 53 AND chest_id = 'locked' FOR UPDATE")

        let answer = try harness.activate(chest: "locked", ifMatch: #""1""#)
        #expect(answer.status == 503)
        #expect(answer.errorCode == "database_unavailable")
        #expect(answer.headers["retry-after"] != nil)
        // The server itself ended the UPDATE (statement_timeout/lock_timeout), so no backend of
        // the service still waits for the lock. A statement the client merely abandoned would.
        #expect(try Self.activeStatements(database) == 0)

        try holder.execute("COMMIT")
        // Had the UPDATE been left running, it would take the lock now and commit: wait until
        // no statement of the service runs, then the chest must still be unactivated.
        #expect(await Polling.waitUntilAsync { (try? Self.activeStatements(database)) == 0 })
        #expect(try database.row(id: "locked") == "spawned|1|")
        // The connection survived the cancellation and serves the retry.
        #expect(try harness.activate(chest: "locked", ifMatch: #""1""#).status == 200)
        #expect(try database.row(id: "locked") == "activated|2|")
    }

    @Test("a read-only server (25006) is 503 with Retry-After, not 500, and the URL's own options still apply")
    func readOnlyServerIs503() throws {
        let database = try TestDatabase(on: try PostgresCluster.shared())
        try database.insertChest(id: "ro")
        // As on a standby or a primary put in read-only mode during a failover.
        let url = database.url + "?options=-c%20default_transaction_read_only%3Don"
        let harness = try ActivationHarness(postgresURL: url, poolSize: 1, threads: 1)

        let answer = try harness.activate(chest: "ro", ifMatch: #""1""#)
        #expect(answer.status == 503)
        #expect(answer.errorCode == "database_unavailable")
        #expect(answer.headers["retry-after"] != nil)
        #expect(try harness.get("/v1/treasure/53/chests/ro").status == 200, "reads still work")
        #expect(try database.row(id: "ro") == "spawned|1|")
    }

    @Test("the pool connection terminated by the server (57P01) mid-statement is 503, not 500")
    func terminatedBackendIs503() async throws {
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        try database.insertChest(id: "term")
        // A long deadline, so only the termination ends the statement.
        let harness = try ActivationHarness(postgresURL: database.url, poolSize: 1, threads: 1) {
            $0.queryTimeout = .seconds(20)
        }
        let holder = try PostgresBlockingSession(url: database.url)
        try holder.execute("BEGIN")
        try holder.execute("SELECT 1 FROM treasure_chests WHERE biome_id = 53 AND chest_id = 'term' FOR UPDATE")

        let port = harness.port
        let answers = await Concurrently.results(2, width: 2) { job -> Int in
            if job == 0 {
                return try PlainHTTPClient.request(
                    port: port, method: "POST", path: "/v1/treasure/53/chests/term/activate",
                    headers: ["If-Match": #""1""#]
                ).status
            }
            // Once the activation waits for the lock, end its backend as an administrator would.
            let waiting = Polling.waitUntil { (try? Self.activeStatements(database)) == 1 }
            guard waiting else { throw FixtureError("the activation never waited for the lock") }
            return Int(
                try database.psql(
                    """
                    SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                     WHERE datname = current_database() AND application_name = 'biomebus-activation'
                       AND state = 'active'
                    """)) ?? -1
        }
        try holder.execute("COMMIT")
        #expect(try answers[1].get() == 1)
        #expect(try answers[0].get() == 503)
        #expect(try database.row(id: "term") == "spawned|1|")
        // The pool reconnects by itself.
        #expect(
            await Polling.waitUntilAsync { (try? harness.activate(chest: "term", ifMatch: #""1""#))?.status == 200 })
    }

    /// Statements of the activation service running on the server right now.
    private static func activeStatements(_ database: TestDatabase) throws -> Int {
        Int(
            try database.psql(
                """
                SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND application_name = 'biomebus-activation' AND state = 'active'
                """)) ?? -1
    }
}
