import BusOps
import BusPostgres
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The local stack's own Postgres: a cluster under `<data>/postgres` (initdb on first use),
/// listening on loopback only, run as the `postgres` user when we are root (Postgres refuses
/// to run as root).
final class ManagedPostgres {
    let url: String
    let dataDirectory: URL
    private let process: ManagedProcess
    /// Runs a server tool (pg_ctl) as the cluster's owner.
    private let runTool: (String, [String]) throws -> Void

    init(dataDirectory base: URL, preferredPort: Int) throws(LocalStackError) {
        guard let bin = Self.binaries() else {
            throw LocalStackError(
                "PostgreSQL not found under /usr/lib/postgresql; run scripts/bootstrap (or pass --postgres URL)")
        }
        let asPostgres = getuid() == 0
        let directory = try Self.directory(under: base, asPostgres: asPostgres)
        dataDirectory = directory
        let data = directory.appendingPathComponent("data").path
        let run = { (tool: String, arguments: [String]) throws -> Void in
            let (executable, prefix) = Self.command(asPostgres: asPostgres)
            try Self.runToCompletion(executable, prefix + ["\(bin)/\(tool)"] + arguments)
        }
        if !FileManager.default.fileExists(atPath: "\(data)/PG_VERSION") {
            do {
                try run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"])
            } catch {
                throw LocalStackError("initdb failed in \(data): \(error)")
            }
        }
        runTool = run
        let port = LoopbackPorts.choose(preferred: preferredPort)
        let (executable, prefix) = Self.command(asPostgres: asPostgres)
        do {
            process = try ManagedProcess(
                name: "postgres", executable: executable,
                arguments: prefix + [
                    "\(bin)/postgres", "-D", data, "-p", String(port), "-k", directory.path, "-c",
                    "listen_addresses=127.0.0.1",
                ],
                logFile: directory.appendingPathComponent("postgres.log"))
        } catch {
            throw LocalStackError("cannot start postgres: \(error)")
        }
        let admin = "postgresql://postgres@127.0.0.1:\(port)/postgres"
        let up = poll(timeout: .seconds(60)) {
            (try? PostgresBlockingSession(url: admin, connectTimeoutSeconds: 1)) != nil
        }
        guard up else {
            Self.shutdown(data: data, process: process, run: run)
            throw LocalStackError(
                "postgres did not accept connections on port \(port); see \(directory.path)/postgres.log")
        }
        do {
            let session = try PostgresBlockingSession(url: admin)
            if try session.execute("SELECT 1 FROM pg_database WHERE datname = 'biomebus'").isEmpty {
                try session.execute("CREATE DATABASE biomebus")
            }
        } catch {
            Self.shutdown(data: data, process: process, run: run)
            throw LocalStackError("cannot create the biomebus database: \(error)")
        }
        url = "postgresql://postgres@127.0.0.1:\(port)/biomebus"
    }

    /// Fast shutdown: sessions are closed, the cluster is left consistent. `pg_ctl` signals the
    /// postmaster through its pid file, since runuser does not pass SIGINT on.
    func stop() {
        Self.shutdown(data: dataDirectory.appendingPathComponent("data").path, process: process, run: runTool)
    }

    private static func shutdown(data: String, process: ManagedProcess, run: (String, [String]) throws -> Void) {
        try? run("pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "30", "stop"])
        process.stop(grace: .seconds(5))
    }

    /// The cluster's directory: `<data>/postgres`, or, when the `postgres` user cannot reach
    /// that path (a checkout under a private home directory), `/var/lib/biomebus/<hash>`.
    private static func directory(under base: URL, asPostgres: Bool) throws(LocalStackError) -> URL {
        var directory = base.appendingPathComponent("postgres")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        guard asPostgres else { return directory }
        if (try? runToCompletion(tool("runuser"), ["-u", "postgres", "--", "test", "-x", base.path])) == nil {
            let tag = String(UInt64(bitPattern: Int64(base.path.hashValue)) % 1_000_000_007, radix: 36)
            directory = URL(fileURLWithPath: "/var/lib/biomebus/postgres-\(tag)")
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        do {
            try runToCompletion(tool("chown"), ["-R", "postgres:", directory.path])
            try runToCompletion(tool("chmod"), ["700", directory.path])
        } catch {
            throw LocalStackError("cannot hand \(directory.path) to the postgres user: \(error)")
        }
        return directory
    }

    private static func command(asPostgres: Bool) -> (String, [String]) {
        asPostgres ? (tool("runuser"), ["-u", "postgres", "--"]) : (tool("env"), [])
    }

    /// A system tool's path (runuser lives in /usr/sbin on Debian).
    private static func tool(_ name: String) -> String {
        ManagedProcess.find(name) ?? "/usr/bin/\(name)"
    }

    /// The newest installed major version's bin directory.
    private static func binaries() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root))?.compactMap(Int.init) ?? []
        return versions.max().map { "\(root)/\($0)/bin" }
    }

    private static func runToCompletion(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LocalStackError(
                String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}
