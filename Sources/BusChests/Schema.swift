import BusPostgres
import Logging

/// One step of the schema; statements run in one transaction.
package struct SchemaMigration: Sendable {
    package let version: Int
    package let name: String
    package let statements: [String]
}

/// The Postgres schema and how to bring a database up to it.
package enum Schema {
    /// Every migration, oldest first. Never edit one that has shipped: add another.
    package static let migrations: [SchemaMigration] = [
        SchemaMigration(
            version: 1, name: "create treasure_chests",
            statements: [
                // fillfactor 90 leaves room on each page so that activation's UPDATE (which
                // touches no indexed column) stays a HOT update: no index writes, less bloat.
                // No index on state: listing walks the primary key of one biome.
                """
                CREATE TABLE treasure_chests (
                    biome_id     integer          NOT NULL CHECK (biome_id >= 0),
                    chest_id     text             NOT NULL,
                    type         text             NOT NULL,
                    coords       double precision[] NOT NULL,
                    state        text             NOT NULL DEFAULT 'spawned' CHECK (state IN ('spawned', 'activated')),
                    version      bigint           NOT NULL DEFAULT 1,
                    stream_id    text,
                    spawned_at   timestamptz      NOT NULL DEFAULT now(),
                    activated_by text,
                    activated_at timestamptz,
                    PRIMARY KEY (biome_id, chest_id)
                ) WITH (fillfactor = 90)
                """
            ])
    ]

    /// Advisory lock key ("biomebus" as ASCII) that serialises concurrent migrators.
    static let lockKey = "7091321603914626419"

    /// Applies pending migrations and returns their versions. Idempotent, and safe when several
    /// processes start at once: they queue on an advisory lock, and later ones find nothing to do.
    ///
    /// Everything happens in one transaction (Postgres DDL is transactional): the lock is
    /// `pg_advisory_xact_lock` and the timeouts are `SET LOCAL`, so nothing outlives the
    /// transaction and it works through a transaction-pooling pgbouncer too. Blocking: call at
    /// startup, before any event loop runs.
    @discardableResult
    package static func migrate(postgresURL: String, logger: Logger, timeout: Duration = .seconds(60))
        throws(PostgresBlockingError)
        -> [Int]
    {
        let session = try PostgresBlockingSession(url: postgresURL)
        let milliseconds = timeout.components.seconds * 1000
        try session.execute("BEGIN")
        do {
            try session.execute("SET LOCAL statement_timeout = \(milliseconds)")
            try session.execute("SET LOCAL lock_timeout = \(milliseconds)")
            try session.execute("SELECT pg_advisory_xact_lock($1::bigint)", [lockKey])
            try session.execute(
                """
                CREATE TABLE IF NOT EXISTS biomebus_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
            let done = Set(
                try session.execute("SELECT version FROM biomebus_migrations").compactMap { $0[0].flatMap { Int($0) } })
            var applied: [Int] = []
            for migration in migrations where !done.contains(migration.version) {
                for statement in migration.statements { try session.execute(statement) }
                try session.execute(
                    "INSERT INTO biomebus_migrations (version, name) VALUES ($1, $2)",
                    [String(migration.version), migration.name])
                applied.append(migration.version)
            }
            try session.execute("COMMIT")
            for version in applied {
                let name = migrations.first { $0.version == version }?.name ?? ""
                logger.info("migration applied", metadata: ["version": "\(version)", "name": "\(name)"])
            }
            return applied
        } catch {
            _ = try? session.execute("ROLLBACK")
            throw error
        }
    }
}
