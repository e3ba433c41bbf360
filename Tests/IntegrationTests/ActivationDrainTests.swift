import BusTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Activation service: shutdown drains every reply")
struct ActivationDrainTests {
    @Test("shutdown while activations wait on a row lock: every client gets its whole answer")
    func shutdownWithRequestsInFlight() async throws {
        let server = try await PostgresCluster.shared()
        let database = try TestDatabase(on: server)
        try database.insertChest(id: "d-1")
        let harness = try ActivationHarness(postgresURL: database.url, poolSize: 8)

        // Another session holds the chest's row for a while, so the activations queue behind it.
        let locker = try server.psqlInBackground(
            "BEGIN; SELECT 1 FROM treasure_chests WHERE chest_id = 'd-1' FOR UPDATE; SELECT pg_sleep(1.5); COMMIT;",
            database: database.name)
        defer { locker.waitForExit(.seconds(30)) }
        #expect(
            await Polling.waitUntilAsync {
                let sleeping = try? database.psql(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'BEGIN; SELECT 1 FROM treasure_chests%' AND state = 'active'"
                )
                return sleeping?.trimmingCharacters(in: .whitespacesAndNewlines) == "1"
            })

        let port = harness.port
        let clients = 6
        let requests = Concurrently.start(clients, width: clients) { _ in
            Result {
                try PlainHTTPClient.request(
                    port: port, method: "POST", path: "/v1/treasure/53/chests/d-1/activate",
                    headers: ["If-Match": #""1""#])
            }
        }
        let allWaiting = await Polling.waitUntilAsync {
            let text = (try? harness.get("/metrics").text) ?? ""
            return text.contains("biomebus_http_requests_in_flight \(clients + 1)\n")
        }
        #expect(allWaiting)
        harness.service.shutdown()
        let answers = await requests.wait()
        var winners = 0
        for (index, answer) in answers.enumerated() {
            switch answer {
            case .success(let response):
                if response.status == 200 { winners += 1 }
                #expect([200, 412, 503].contains(response.status), "client \(index): \(response.status)")
                let length = Int(response.headers["content-length"] ?? "")
                #expect(length != nil && response.body.count == length, "client \(index): a cut body")
            case .failure(let error):
                Issue.record("client \(index) lost its answer: \(error)")
            }
        }
        #expect(winners <= 1)
    }
}
