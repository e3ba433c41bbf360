import BusLoop
import BusPostgres
import BusTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// libpq multi-host URLs (`postgresql://h1:p1,h2:p2/db?target_session_attrs=read-write`): a
/// first host that cannot serve costs at most its connect timeout, then the next one serves.
@Suite("Postgres client: multi-host URLs")
struct PostgresMultiHostTests {
    private func harness(firstPort: Int, server: PostgresCluster, timeout: Duration = .milliseconds(300))
        -> PostgresHarness
    {
        let url =
            "postgresql://postgres@127.0.0.1:\(firstPort),127.0.0.1:\(server.port)/\(PostgresCluster.testDatabase)"
            + "?sslmode=disable&target_session_attrs=read-write"
        var connection = PostgresConfiguration(url: url)
        connection.connectTimeout = timeout
        var configuration = PostgresPoolConfiguration(connection: connection, maxConnections: 1)
        configuration.leaseTimeout = .seconds(5)
        return PostgresHarness(configuration: configuration)
    }

    @Test("a first host that accepts TCP but never answers costs one connect timeout; the second serves")
    func silentFirstHost() async throws {
        let server = try await PostgresCluster.shared()
        // The kernel completes the handshake on a listening socket nobody accepts from; the
        // startup packet is never answered.
        let (fd, silentPort) = LoopbackPorts.listener()
        defer { close(fd) }
        let harness = harness(firstPort: silentPort, server: server)
        let (result, took) = await harness.timedQuery("SELECT 1")
        #expect(result.value != nil, "\(String(describing: result.error))")
        #expect(took < .seconds(2), "served after \(took)")
        // A second statement reuses the connection to the host that answered.
        #expect(await harness.query("SELECT 2").value != nil)
    }

    @Test("a first host that refuses connections is skipped at once")
    func refusingFirstHost() async throws {
        let server = try await PostgresCluster.shared()
        let harness = harness(firstPort: LoopbackPorts.freePort(), server: server, timeout: .seconds(5))
        let (result, took) = await harness.timedQuery("SELECT 1")
        #expect(result.value != nil, "\(String(describing: result.error))")
        #expect(took < .seconds(2), "served after \(took)")
    }
}
