import BusChests
import BusService
import BusTesting
import Foundation
import Logging
import Testing

@Suite("Schema migrations")
struct MigrationTests {
    @Test("several migrators at once: one applies, the others find nothing to do; running again changes nothing")
    func concurrentMigrators() async throws {
        let server = try await PostgresCluster.shared()
        let name = "m_" + UUID().uuidString.prefix(8).lowercased()
        try server.psql("CREATE DATABASE \(name)", database: "postgres")
        let url = "postgresql://postgres@127.0.0.1:\(server.port)/\(name)"
        let results = await Concurrently.results(6, width: 6) { _ in
            try Schema.migrate(postgresURL: url, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        }
        let applied = results.compactMap { try? $0.get() }
        #expect(applied.count == 6, "every migrator succeeds: \(results)")
        #expect(applied.filter { $0 == [1] }.count == 1)
        #expect(applied.filter(\.isEmpty).count == 5)
        #expect(try server.psql("SELECT count(*) FROM biomebus_migrations", database: name) == "1")
        #expect(try server.psql("SELECT to_regclass('treasure_chests') IS NOT NULL", database: name) == "t")
        #expect(
            try Schema.migrate(postgresURL: url, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
                .isEmpty)
    }

    @Test("biomebus migrate: idempotent, and a clear one-line error when Postgres is unreachable")
    func command() throws {
        let server = try PostgresCluster.shared()
        let name = "c_" + UUID().uuidString.prefix(8).lowercased()
        try server.psql("CREATE DATABASE \(name)", database: "postgres")
        let url = "postgresql://postgres@127.0.0.1:\(server.port)/\(name)"
        for _ in 0..<2 {
            let run = try BiomeBusProcess(["migrate", "--postgres", url])
            #expect(run.waitForExit() == 0, "\(run.stderr)")
        }
        let unreachable = try BiomeBusProcess([
            "migrate", "--postgres", "postgresql://postgres@127.0.0.1:\(LoopbackPorts.freePort())/x",
        ])
        #expect(unreachable.waitForExit() == 2)
        #expect(unreachable.stderr.split(separator: "\n").count == 1, "\(unreachable.stderr)")
        let bad = try BiomeBusProcess(["migrate", "--postgres", "mysql://nope"])
        #expect(bad.waitForExit() == 2)
        #expect(bad.stderr.contains("--postgres: expected a URI"))
    }
}
