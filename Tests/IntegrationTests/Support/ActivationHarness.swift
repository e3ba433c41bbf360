import BusActivation
import BusChests
import BusHTTP
import BusLoop
import BusService
import BusTesting
import Foundation
import Logging

/// A fresh database on a Postgres server, migrated to the current schema.
struct TestDatabase {
    let server: PostgresCluster
    let name: String

    init(on server: PostgresCluster) throws {
        self.server = server
        name = "t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        try server.psql("CREATE DATABASE \(name)", database: "postgres")
        try Schema.migrate(postgresURL: url, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }

    var url: String { "postgresql://postgres@127.0.0.1:\(server.port)/\(name)" }

    @discardableResult
    func psql(_ sql: String) throws -> String {
        try server.psql(sql, database: name)
    }

    /// Inserts a spawned chest at version 1.
    func insertChest(biome: Int = 53, id: String, type: String = "chest") throws {
        try psql(
            "INSERT INTO treasure_chests (biome_id, chest_id, type, coords) VALUES (\(biome), '\(id)', '\(type)', '{1.5,2,3.25}')"
        )
    }

    /// `state|version|activated_by` of a chest, or "" when there is none.
    func row(biome: Int = 53, id: String) throws -> String {
        try psql(
            "SELECT state || '|' || version || '|' || coalesce(activated_by, '') FROM treasure_chests WHERE biome_id = \(biome) AND chest_id = '\(id)'"
        )
    }
}

/// An in-process activation service on a free port.
final class ActivationHarness {
    let service: ActivationService

    var port: Int { service.port }

    init(
        postgresURL: String, poolSize: Int = 4, threads: Int = 2,
        configure: (inout ActivationService.Configuration) -> Void = { _ in }
    ) throws {
        var configuration = ActivationService.Configuration(
            postgresURL: postgresURL, listen: ListenAddress(host: "127.0.0.1", port: 0), threads: threads)
        configuration.poolSize = poolSize
        configure(&configuration)
        service = try ActivationService(
            configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        service.start()
        let ready = Polling.waitUntil {
            (try? PlainHTTPClient.request(port: service.port, method: "GET", path: "/readyz"))?.status == 200
        }
        guard ready else { throw FixtureError("activation service never became ready") }
    }

    deinit {
        service.shutdown()
    }

    func activate(biome: Int = 53, chest: String, ifMatch: String?, body: String? = nil) throws -> PlainHTTPResponse {
        var headers: [String: String] = [:]
        if let ifMatch { headers["If-Match"] = ifMatch }
        if body != nil { headers["Content-Type"] = "application/json" }
        return try PlainHTTPClient.request(
            port: port, method: "POST", path: "/v1/treasure/\(biome)/chests/\(chest)/activate", headers: headers,
            body: body.map { Array($0.utf8) })
    }

    func get(_ path: String) throws -> PlainHTTPResponse {
        try PlainHTTPClient.request(port: port, method: "GET", path: path)
    }
}
