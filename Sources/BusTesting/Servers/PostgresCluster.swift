import BusPostgres
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A PostgreSQL cluster of our own: `initdb` on first use, `postgres` run in the foreground
/// as a `ChildProcess` listening on loopback only (trust authentication), one database
/// created in it.
///
/// Postgres refuses to run as root, so under root the directory is given to the `postgres`
/// user and every server tool runs as that user through `runuser`.
///
/// Two flavours, chosen at init:
/// - persistent (`biomebus up`): the data survives restarts; when the `postgres` user cannot
///   reach the given directory (a checkout under a private home), the cluster lives under
///   `/var/lib/biomebus/postgres-<tag>` instead.
/// - ephemeral (tests): `initdb --no-sync`, fsync, synchronous_commit and full_page_writes
///   off; the directory is removed by `shutdown()` or when the object goes away.
package final class PostgresCluster: @unchecked Sendable {
    // @unchecked Sendable: start/stop/shutdown are called by one owner at a time (a test, or
    // the local stack's main thread); the other members are immutable.
    package let port: Int
    /// The cluster's directory: `data/`, the Unix socket and `postgres.log`.
    package let directory: URL
    /// The database created at init, which `url` names.
    package let database: String
    package let isEphemeral: Bool
    private let binaries: String
    private let runAsPostgres = getuid() == 0
    /// `postgres` (or `runuser` running it) while the server runs.
    private var process: ChildProcess?
    private var isRemoved = false

    /// Makes the cluster in `directory` unless it exists, starts it on `port` and creates
    /// `database` in it if missing. On failure, whatever was started is stopped.
    package init(directory: URL, port: Int, database: String, ephemeral: Bool) throws(FixtureError) {
        guard let binaries = Self.binaries() else {
            throw FixtureError("PostgreSQL not found under /usr/lib/postgresql; run scripts/bootstrap")
        }
        self.binaries = binaries
        self.port = port
        self.database = database
        isEphemeral = ephemeral
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.directory = try Self.owned(directory, asPostgres: runAsPostgres, mayMove: !ephemeral)
        do throws(FixtureError) {
            if !FileManager.default.fileExists(atPath: "\(dataDirectory)/PG_VERSION") {
                do {
                    try serverTool(
                        "initdb",
                        ["-D", dataDirectory, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"]
                            + (ephemeral ? ["--no-sync"] : []))
                } catch {
                    throw FixtureError("initdb failed in \(dataDirectory): \(error)")
                }
            }
            try start()
            do {
                let session = try PostgresBlockingSession(url: url(database: "postgres"))
                if try session.execute("SELECT 1 FROM pg_database WHERE datname = $1", [database]).isEmpty {
                    try session.execute("CREATE DATABASE \(database)")
                }
            } catch {
                throw FixtureError("cannot create the \(database) database: \(error)")
            }
        } catch {
            if ephemeral { shutdown() } else { stop() }
            throw error
        }
    }

    /// A throwaway cluster in a fresh temporary directory on a free port.
    package static func temporary(database: String) throws -> PostgresCluster {
        let directory = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-postgres")
        return try PostgresCluster(
            directory: directory, port: LoopbackPorts.freePort(), database: database, ephemeral: true)
    }

    deinit {
        if isEphemeral { shutdown() }
    }

    /// The libpq URI of `database` (by default the one created at init), with `parameters`
    /// as the query (`application_name=…`, `sslmode=disable`), sorted by name.
    package func url(database: String? = nil, parameters: [String: String] = [:]) -> String {
        let base = "postgresql://postgres@127.0.0.1:\(port)/\(database ?? self.database)"
        let query = parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        return query.isEmpty ? base : "\(base)?\(query)"
    }

    /// The libpq URI of the database created at init.
    package var url: String { url() }

    private var dataDirectory: String { directory.appendingPathComponent("data").path }

    /// Starts (or restarts) the server on the same port and data directory; returns once it
    /// accepts connections.
    ///
    /// `postgres` runs in the foreground as our child rather than through `pg_ctl start`: a
    /// server daemonized by pg_ctl would inherit the socket Foundation watches for the child's
    /// exit (see `ChildProcess`).
    package func start() throws(FixtureError) {
        var arguments = [
            "-D", dataDirectory, "-p", String(port), "-k", directory.path, "-c", "listen_addresses=127.0.0.1",
        ]
        if isEphemeral {
            arguments += [
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c",
                "shared_buffers=32MB", "-c", "max_connections=200",
            ]
        }
        let (executable, prefix) = try command("\(binaries)/postgres")
        let logFile = directory.appendingPathComponent("postgres.log")
        let process: ChildProcess
        do {
            process = try ChildProcess(
                name: "postgres", executable: executable, arguments: prefix + arguments, logFile: logFile)
        } catch {
            throw FixtureError("cannot start postgres: \(error)")
        }
        self.process = process
        let admin = url(database: "postgres")
        let up = Polling.waitUntil(timeout: .seconds(60)) {
            process.isRunning && (try? PostgresBlockingSession(url: admin, connectTimeoutSeconds: 1)) != nil
        }
        guard up else {
            stop(mode: .immediate)
            throw FixtureError("postgres did not accept connections on port \(port); see \(logFile.path)")
        }
    }

    /// How `pg_ctl stop` ends the server.
    package enum StopMode: String, Sendable {
        /// Sessions are closed, the cluster is left consistent (a shutdown checkpoint).
        case fast
        /// No checkpoint: the next start recovers, as after a crash.
        case immediate
    }

    /// Stops the server through `pg_ctl` (which signals the postmaster through its pid file,
    /// since runuser does not pass signals on) and waits for it to exit. Does nothing when it
    /// is not running.
    package func stop(mode: StopMode = .fast) {
        guard let process else { return }
        if process.isRunning {
            try? serverTool("pg_ctl", ["-D", dataDirectory, "-m", mode.rawValue, "-w", "-t", "30", "stop"])
        }
        process.stop(grace: .seconds(5))
        self.process = nil
    }

    /// Stops the server at once and removes its directory. Idempotent.
    package func shutdown() {
        guard !isRemoved else { return }
        isRemoved = true
        stop(mode: .immediate)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `sql` with `psql -At` and returns its output, trimmed.
    @discardableResult
    package func psql(_ sql: String, database: String? = nil) throws(FixtureError) -> String {
        try ProcessTools.run("\(binaries)/psql", psqlArguments(sql, database: database))
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Starts `psql` running `sql` and returns without waiting (a session holding a lock while
    /// a test runs); its output is dropped.
    package func psqlInBackground(_ sql: String, database: String? = nil) throws -> ChildProcess {
        try ChildProcess(
            name: "psql", executable: "\(binaries)/psql", arguments: psqlArguments(sql, database: database),
            logFile: URL(fileURLWithPath: "/dev/null"))
    }

    private func psqlArguments(_ sql: String, database: String?) -> [String] {
        [
            "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres",
            "-d", database ?? self.database, "-c", sql,
        ]
    }

    /// Runs a server tool (initdb, pg_ctl) to completion, as `postgres` when we are root.
    private func serverTool(_ name: String, _ arguments: [String]) throws(FixtureError) {
        let (executable, prefix) = try command("\(binaries)/\(name)")
        try ProcessTools.run(executable, prefix + arguments)
    }

    /// How to run `tool` as the cluster's owner: through `runuser -u postgres --` under root.
    private func command(_ tool: String) throws(FixtureError) -> (String, [String]) {
        runAsPostgres ? (try ProcessTools.executable("runuser"), ["-u", "postgres", "--", tool]) : (tool, [])
    }

    /// The bin directory of the newest installed major version (`/usr/lib/postgresql/16/bin`).
    package static func binaries() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root))?.compactMap(Int.init) ?? []
        return versions.max().map { "\(root)/\($0)/bin" }
    }

    /// `directory`, handed to the `postgres` user when we are root. When that user cannot
    /// reach it and `mayMove` (persistent clusters), `/var/lib/biomebus/postgres-<tag>`,
    /// the tag derived from the parent's path.
    private static func owned(_ directory: URL, asPostgres: Bool, mayMove: Bool) throws(FixtureError) -> URL {
        guard asPostgres else { return directory }
        var directory = directory
        let parent = directory.deletingLastPathComponent()
        let runuser = try ProcessTools.executable("runuser")
        if mayMove, (try? ProcessTools.run(runuser, ["-u", "postgres", "--", "test", "-x", parent.path])) == nil {
            // FNV-1a, not `hashValue`: Swift seeds that per process, so the same checkout would
            // get a new (empty) cluster on every run.
            let hash = parent.path.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
            let tag = String(hash % 1_000_000_007, radix: 36)
            directory = URL(fileURLWithPath: "/var/lib/biomebus/postgres-\(tag)")
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        do {
            try ProcessTools.run(try ProcessTools.executable("chown"), ["-R", "postgres:", directory.path])
            try ProcessTools.run(try ProcessTools.executable("chmod"), ["700", directory.path])
        } catch {
            throw FixtureError("cannot hand \(directory.path) to the postgres user: \(error)")
        }
        return directory
    }
}

/// The same fixture calls for async code (every test body): `initdb`, a start and `pg_ctl
/// stop` each block for a second or more, so they run off the cooperative pool (`OffPool`).
extension PostgresCluster {
    /// `temporary(database:)` off the cooperative pool.
    package static func temporary(database: String) async throws -> PostgresCluster {
        try await OffPool.run { try temporary(database: database) }
    }

    /// `start()` off the cooperative pool.
    package func start() async throws(FixtureError) {
        try await OffPool.run { () throws(FixtureError) in try self.start() }
    }

    /// `stop(mode:)` off the cooperative pool.
    package func stop(mode: StopMode = .fast) async {
        await OffPool.run { self.stop(mode: mode) }
    }

    /// `shutdown()` off the cooperative pool.
    package func shutdown() async {
        await OffPool.run { self.shutdown() }
    }
}
