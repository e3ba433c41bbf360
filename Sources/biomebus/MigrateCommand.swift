import ArgumentParser
import BusChests
import BusPostgres
import BusService
import Foundation

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Creates or upgrades the Postgres schema. Idempotent; safe to run from several processes at once."
    )

    @OptionGroup var postgres: PostgresOption

    func run() throws {
        try failingCleanly {
            let url = try postgres.url()
            let logger = Logs.logger("migrate")
            do {
                let applied = try Schema.migrate(postgresURL: url, logger: logger)
                logger.info(
                    applied.isEmpty ? "schema up to date" : "schema migrated", metadata: ["applied": "\(applied)"])
            } catch {
                throw CLIError("migrate: \(error)")
            }
        }
    }
}

/// `--postgres URL`, falling back to `BIOMEBUS_POSTGRES_URL`.
struct PostgresOption: ParsableArguments {
    @Option(name: .long, help: "libpq connection URI (postgresql://user@host:port/db). Env: BIOMEBUS_POSTGRES_URL.")
    var postgres: String?

    func url() throws -> String {
        guard let url = postgres ?? ProcessInfo.processInfo.environment["BIOMEBUS_POSTGRES_URL"], !url.isEmpty else {
            throw CLIError("--postgres is required (or set BIOMEBUS_POSTGRES_URL)")
        }
        guard url.hasPrefix("postgresql://") || url.hasPrefix("postgres://") else {
            throw CLIError(
                "--postgres: expected a URI such as postgresql://user@host:5432/db, got \"\(PostgresURLRedaction.redacted(url))\""
            )
        }
        return url
    }
}
