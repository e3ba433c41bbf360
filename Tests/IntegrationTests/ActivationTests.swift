import BusTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Activation service against real Postgres")
struct ActivationTests {
    @Test("reads: 200 with a strong ETag, 404, and 400 for malformed ids")
    func reads() throws {
        let database = try TestDatabase(on: try PostgresCluster.shared())
        try database.insertChest(id: "c-9")
        let harness = try ActivationHarness(postgresURL: database.url)

        let chest = try harness.get("/v1/treasure/53/chests/c-9")
        #expect(chest.status == 200)
        #expect(chest.headers["etag"] == #""1""#)
        #expect(chest.json["state"] as? String == "spawned")
        #expect(chest.json["version"] as? Int == 1)
        #expect(chest.json["coords"] as? [Double] == [1.5, 2, 3.25])
        #expect(chest.json["activated_by"] is NSNull)

        let missing = try harness.get("/v1/treasure/53/chests/nope")
        #expect(missing.status == 404)
        #expect(missing.errorCode == "chest_not_found")
        #expect(try harness.get("/v1/treasure/x/chests/c-9").status == 400)
        #expect(try harness.get("/v1/treasure/2147483648/chests/c-9").status == 400)
        #expect(try harness.get("/v1/treasure/53/chests/bad%20id").status == 400)
    }

    @Test("the status-code table of activation, each case checked against the row")
    func statusTable() throws {
        let database = try TestDatabase(on: try PostgresCluster.shared())
        for id in ["a", "b", "w", "s"] { try database.insertChest(id: id) }
        let harness = try ActivationHarness(postgresURL: database.url)

        let won = try harness.activate(chest: "a", ifMatch: #""1""#, body: #"{"player_id": "p-1"}"#)
        #expect(won.status == 200)
        #expect(won.headers["etag"] == #""2""#)
        #expect(won.json["state"] as? String == "activated")
        #expect(won.json["activated_by"] as? String == "p-1")
        #expect(try database.row(id: "a") == "activated|2|p-1")
        #expect(try database.psql("SELECT activated_at IS NOT NULL FROM treasure_chests WHERE chest_id = 'a'") == "t")

        let stale = try harness.activate(chest: "a", ifMatch: #""1""#)
        #expect(stale.status == 412)
        #expect(stale.errorCode == "etag_mismatch")
        #expect(stale.headers["etag"] == #""2""#)

        let again = try harness.activate(chest: "a", ifMatch: #""2""#)
        #expect(again.status == 409)
        #expect(again.errorCode == "already_activated")

        let noTag = try harness.activate(chest: "b", ifMatch: nil)
        #expect(noTag.status == 428)
        #expect(noTag.errorCode == "precondition_required")

        let weak = try harness.activate(chest: "w", ifMatch: #"W/"1""#)
        #expect(weak.status == 412, "a weak tag never matches")

        for bad in ["1", #""1"#, "W/1", #""1" "2""#] {
            #expect(try harness.activate(chest: "b", ifMatch: bad).status == 400, "If-Match: \(bad)")
        }
        #expect(try harness.activate(chest: "b", ifMatch: #""1""#, body: "[1]").status == 400)
        #expect(try harness.activate(chest: "b", ifMatch: #""1""#, body: #"{"player_id": 7}"#).status == 400)
        #expect(try harness.activate(chest: "b", ifMatch: #""1""#, body: "{").status == 400)
        #expect(try harness.activate(biome: 99, chest: "b", ifMatch: #""1""#).status == 404)
        #expect(try harness.activate(chest: "nope", ifMatch: #""1""#).errorCode == "chest_not_found")

        let list = try harness.activate(chest: "s", ifMatch: #""7", "1""#)
        #expect(list.status == 200, "any tag of a list may match")
        let star = try harness.activate(chest: "b", ifMatch: "*")
        #expect(star.status == 200)

        let metrics = try harness.get("/metrics").text
        #expect(metrics.contains(#"biomebus_activation_requests_total{route="activate",status="412"} 2"#), "\(metrics)")
        #expect(metrics.contains(#"biomebus_activation_requests_total{route="activate",status="409"} 1"#))
        #expect(metrics.contains(#"biomebus_activation_requests_total{route="activate",status="200"} 3"#))
        #expect(metrics.contains("biomebus_postgres_pool_connections{"))
        #expect(metrics.contains("# TYPE biomebus_activation_request_duration_seconds histogram"))

        // Nothing but the successful activations changed a row.
        #expect(try database.row(id: "a") == "activated|2|p-1")
        #expect(try database.row(id: "b") == "activated|2|")
        #expect(try database.row(id: "w") == "spawned|1|")
        #expect(try database.row(id: "s") == "activated|2|")
    }

    @Test("with unnamed statements (for pgbouncer < 1.21) activation behaves the same")
    func unnamedStatements() throws {
        let database = try TestDatabase(on: try PostgresCluster.shared())
        try database.insertChest(id: "u-1")
        let harness = try ActivationHarness(postgresURL: database.url) { $0.preparedStatements = false }
        #expect(try harness.activate(chest: "u-1", ifMatch: #""1""#).status == 200)
        #expect(try harness.activate(chest: "u-1", ifMatch: #""1""#).status == 412)
        #expect(try harness.get("/v1/treasure/53/chests/u-1").headers["etag"] == #""2""#)
    }

    @Test("the seed alias POST /treasure/{biome}/activate behaves the same")
    func alias() throws {
        let database = try TestDatabase(on: try PostgresCluster.shared())
        try database.insertChest(id: "c-9")
        let harness = try ActivationHarness(postgresURL: database.url)
        func alias(_ body: String, _ tag: String?) throws -> PlainHTTPResponse {
            try PlainHTTPClient.request(
                port: harness.port, method: "POST", path: "/treasure/53/activate",
                headers: tag.map { ["If-Match": $0] } ?? [:], body: Array(body.utf8))
        }
        #expect(try alias(#"{"chest_id": "c-9", "player_id": "p-1"}"#, nil).status == 428)
        #expect(try alias(#"{"player_id": "p-1"}"#, #""1""#).status == 400)
        let won = try alias(#"{"chest_id": "c-9", "player_id": "p-1"}"#, #""1""#)
        #expect(won.status == 200)
        #expect(won.headers["etag"] == #""2""#)
        #expect(try alias(#"{"chest_id": "c-9", "player_id": "p-2"}"#, #""1""#).status == 412)
        #expect(try database.row(id: "c-9") == "activated|2|p-1")
    }

    @Test("listing by state with a limit")
    func listing() throws {
        let database = try TestDatabase(on: try PostgresCluster.shared())
        for index in 0..<5 { try database.insertChest(id: "c-\(index)") }
        try database.insertChest(biome: 54, id: "other")
        let harness = try ActivationHarness(postgresURL: database.url)
        #expect(try harness.activate(chest: "c-1", ifMatch: #""1""#).status == 200)

        let all = try harness.get("/v1/treasure/53/chests")
        #expect((all.json["chests"] as? [[String: Any]])?.count == 5)
        let spawned = try harness.get("/v1/treasure/53/chests?state=spawned&limit=2")
        let ids = (spawned.json["chests"] as? [[String: Any]])?.compactMap { $0["chest_id"] as? String }
        #expect(ids == ["c-0", "c-2"])
        let activated = try harness.get("/v1/treasure/53/chests?state=activated")
        #expect((activated.json["chests"] as? [[String: Any]])?.count == 1)
        for bad in ["state=open", "limit=0", "limit=1001", "limit=x"] {
            #expect(try harness.get("/v1/treasure/53/chests?\(bad)").status == 400, "\(bad)")
        }
        #expect(try harness.get("/v1/treasure/53/chests?limit=1000").status == 200)
    }

    @Test(
        "40 concurrent activations with the same tag: exactly one 200, 39 × 412, version 2 (pipelined too)",
        arguments: [1, 8])
    func raceForOneChest(pipelineDepth: Int) async throws {
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        try database.insertChest(id: "prize")
        // Pipelined: 2 connections carry the 40 requests, up to 8 statements in flight on each.
        let harness = try ActivationHarness(postgresURL: database.url, poolSize: pipelineDepth == 1 ? 8 : 2) {
            $0.pipelineDepth = pipelineDepth
        }
        let port = harness.port
        let results = await Concurrently.results(40, width: 40) { index in
            try PlainHTTPClient.request(
                port: port, method: "POST", path: "/v1/treasure/53/chests/prize/activate",
                headers: ["If-Match": #""1""#], body: Array(#"{"player_id": "p-\#(index)"}"#.utf8)
            ).status
        }
        let statuses = results.compactMap { try? $0.get() }
        #expect(statuses.count == 40)
        #expect(statuses.filter { $0 == 200 }.count == 1)
        #expect(statuses.filter { $0 == 412 }.count == 39)
        #expect(try database.psql("SELECT version FROM treasure_chests WHERE chest_id = 'prize'") == "2")
    }

    @Test("2,000 requests from 64 clients with --pool-size 4: Postgres never sees more than 4 connections")
    func poolBound() async throws {
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        try database.psql(
            "INSERT INTO treasure_chests (biome_id, chest_id, type, coords) SELECT 53, 'p-' || n, 'chest', '{1,2}' FROM generate_series(0, 999) n"
        )
        let application = "biomebus-activation"
        let harness = try ActivationHarness(postgresURL: database.url, poolSize: 4)
        let port = harness.port
        let observed = Observed()
        let stop = Observed()
        let watcher = Thread {
            while stop.value == 0 {
                let count =
                    (try? database.server.psql(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = '\(database.name)' AND application_name = '\(application)'",
                        database: "postgres")).flatMap { Int($0) } ?? 0
                observed.max(count)
            }
        }
        watcher.start()
        let results = await Concurrently.results(2000, width: 64) { index in
            index % 2 == 0
                ? try PlainHTTPClient.request(
                    port: port, method: "POST", path: "/v1/treasure/53/chests/p-\(index / 2)/activate",
                    headers: ["If-Match": #""1""#]
                ).status
                : try PlainHTTPClient.request(port: port, method: "GET", path: "/v1/treasure/53/chests/p-\(index / 2)")
                    .status
        }
        stop.max(1)
        let statuses = results.compactMap { try? $0.get() }
        #expect(statuses.count == 2000)
        #expect(statuses.allSatisfy { $0 == 200 }, "\(Dictionary(grouping: statuses) { $0 }.mapValues(\.count))")
        #expect(observed.value <= 4, "saw \(observed.value) connections")
        #expect(observed.value >= 1)
        #expect(try database.psql("SELECT count(*) FROM treasure_chests WHERE state = 'activated'") == "1000")
    }
}

/// A thread-safe running maximum.
final class Observed: @unchecked Sendable {
    private let lock = NSLock()
    private var current = 0

    var value: Int { lock.withLock { current } }

    func max(_ candidate: Int) {
        lock.withLock { current = Swift.max(current, candidate) }
    }
}

@Suite("Activation service: Postgres outage", .serialized)
struct ActivationOutageTests {
    @Test("Postgres stopped: 503 within 3 s and /readyz 503; started again: 200 without a restart")
    func outageAndRecovery() async throws {
        let server = try await PostgresCluster.forTest()
        let database = try TestDatabase(on: server)
        try database.insertChest(id: "c-9")
        let harness = try ActivationHarness(postgresURL: database.url)

        await server.stop()
        // Readiness notices without any request having to fail first (a connection is kept open).
        #expect(await Polling.waitUntilAsync(timeout: .seconds(5)) { (try? harness.get("/readyz"))?.status == 503 })
        let clock = ContinuousClock()
        let start = clock.now
        let down = try harness.get("/v1/treasure/53/chests/c-9")
        let elapsed = clock.now - start
        #expect(down.status == 503)
        #expect(down.errorCode == "database_unavailable")
        #expect(down.headers["retry-after"] != nil)
        #expect(elapsed < .seconds(3), "503 after \(elapsed)")
        #expect(try harness.activate(chest: "c-9", ifMatch: #""1""#).status == 503)
        #expect(await Polling.waitUntilAsync(timeout: .seconds(5)) { (try? harness.get("/readyz"))?.status == 503 })

        try await server.start()
        // Every loop's pool reconnects by itself (backoff up to 5 s); readiness covers them all.
        #expect(await Polling.waitUntilAsync(timeout: .seconds(15)) { (try? harness.get("/readyz"))?.status == 200 })
        #expect(try harness.get("/v1/treasure/53/chests/c-9").status == 200)
        #expect(try harness.activate(chest: "c-9", ifMatch: #""1""#).status == 200)
    }
}
