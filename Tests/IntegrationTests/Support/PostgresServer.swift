import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A real PostgreSQL server made with `initdb` in a temporary directory, listening on a free
/// loopback port (trust authentication, fsync off); stopped and removed by `shutdown()` or
/// when the object goes away.
///
/// Postgres refuses to run as root, so under root the directory is given to the `postgres`
/// user and the server tools run as that user through `runuser`.
///
/// Starting one takes a second or two: tests share `PostgresServer.shared()` and isolate by
/// creating their own tables; only tests that stop the server make their own.
final class PostgresServer: @unchecked Sendable {
    // @unchecked Sendable: start/stop/shutdown are called by one test at a time (the shared
    // server is only started once and stopped at exit).
    let port: Int
    let directory: URL
    let database = "biomebus_test"
    private let binaries: String
    private let psqlPath: String
    private let runAsPostgres = getuid() == 0
    /// `postgres` (or `runuser` running it) while the server runs.
    private var process: Process?
    private var isRemoved = false

    init() throws {
        binaries = try Self.newestBinaries()
        psqlPath = "\(binaries)/psql"
        port = TestEnvironment.freePort()
        directory = try TestEnvironment.makeTemporaryDirectory(prefix: "biomebus-postgres")
        do {
            if runAsPostgres {
                try TestEnvironment.run(try TestEnvironment.executable("chown"), ["-R", "postgres:", directory.path])
            }
            try serverTool(
                "initdb",
                ["-D", dataDirectory, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"])
            try start()
            try psql("CREATE DATABASE \(database)", database: "postgres")
        } catch {
            shutdown()
            throw error
        }
    }

    deinit {
        shutdown()
    }

    /// The libpq URI of the test database.
    var url: String { "postgresql://postgres@127.0.0.1:\(port)/\(database)" }

    /// The URL with extra query parameters (`application_name=…`, `sslmode=disable`).
    func url(_ parameters: [String: String]) -> String {
        let query = parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        return query.isEmpty ? url : "\(url)?\(query)"
    }

    private var dataDirectory: String { directory.appendingPathComponent("data").path }

    /// Starts (or restarts) the server on the same port and data directory; returns once it
    /// accepts connections.
    ///
    /// `postgres` runs in the foreground as our child rather than through `pg_ctl start`:
    /// Foundation's `Process` learns that a child exited when a socket it hands the child
    /// closes, and a server daemonized by pg_ctl would inherit that socket and keep
    /// `waitUntilExit` from ever returning.
    func start() throws {
        let arguments = [
            "-D", dataDirectory, "-p", String(port), "-k", directory.path, "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c",
            "shared_buffers=32MB",
            "-c", "max_connections=200",
        ]
        let logPath = directory.appendingPathComponent("postgres.log").path
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw FixtureError("cannot open \(logPath)") }
        log.seekToEndOfFile()
        let process = Process()
        if runAsPostgres {
            process.executableURL = URL(fileURLWithPath: try TestEnvironment.executable("runuser"))
            process.arguments = ["-u", "postgres", "--", "\(binaries)/postgres"] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "\(binaries)/postgres")
            process.arguments = arguments
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try? log.close()
        self.process = process
        let up = TestEnvironment.waitUntil(timeout: .seconds(30)) {
            process.isRunning && (try? psql("SELECT 1", database: "postgres")) == "1"
        }
        guard up else {
            let tail = (try? String(contentsOfFile: logPath, encoding: .utf8))?.suffix(2000) ?? ""
            throw FixtureError("postgres on port \(port) did not start: \(tail)")
        }
    }

    /// Stops the server (`pg_ctl stop -m fast`: sessions are terminated, no waiting for them)
    /// and waits for it to exit.
    func stop() throws {
        try serverTool("pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "stop"])
        process?.waitUntilExit()
        process = nil
    }

    /// Runs `sql` with `psql -At` and returns its output, trimmed.
    @discardableResult
    func psql(_ sql: String, database: String? = nil) throws -> String {
        try TestEnvironment.run(
            psqlPath,
            [
                "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres",
                "-d", database ?? self.database, "-c", sql,
            ]
        ).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops the server if it runs and removes its directory. Idempotent.
    func shutdown() {
        guard !isRemoved else { return }
        isRemoved = true
        if let process, process.isRunning {
            try? serverTool("pg_ctl", ["-D", dataDirectory, "-m", "immediate", "-w", "stop"])
            process.waitUntilExit()
        }
        process = nil
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs a server tool (initdb, pg_ctl), as `postgres` when we are root.
    private func serverTool(_ name: String, _ arguments: [String]) throws {
        let tool = "\(binaries)/\(name)"
        if runAsPostgres {
            try TestEnvironment.run(
                try TestEnvironment.executable("runuser"), ["-u", "postgres", "--", tool] + arguments)
        } else {
            try TestEnvironment.run(tool, arguments)
        }
    }

    /// The bin directory of the newest installed major version (`/usr/lib/postgresql/15/bin`).
    private static func newestBinaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        guard let newest = versions.compactMap(Int.init).max() else {
            throw FixtureError("no PostgreSQL under \(root); run scripts/bootstrap")
        }
        return "\(root)/\(newest)/bin"
    }
}

extension PostgresServer {
    /// One server for the whole test process, started on first use and stopped at exit.
    static func shared() throws -> PostgresServer {
        try sharedServer.get()
    }

    private static let sharedServer: Result<PostgresServer, any Error> = Result {
        let server = try PostgresServer()
        started.withLock { $0 = server }
        atexit { PostgresServer.started.withLock { $0?.shutdown() } }
        return server
    }

    /// The shared server once it exists, for the exit hook (which must not start one).
    private static let started = Mutex<PostgresServer?>(nil)
}
