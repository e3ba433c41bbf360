import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A `redis-server` of our own on a loopback port, run in the foreground as a `ChildProcess`
/// with its log in `<directory>/redis.log`.
///
/// Persistent (`biomebus up`): the config file decides persistence (the repository's
/// `redis.conf` keeps an AOF in `directory`). Not persistent (tests): no RDB, no AOF, bound to
/// 127.0.0.1, and a temporary directory is removed when the object goes away.
package final class RedisServerProcess: @unchecked Sendable {
    // @unchecked Sendable: start/stop/kill are called by one owner at a time; the other
    // members are immutable.
    package let port: Int
    package let directory: URL
    package let configFile: String?
    package let isPersistent: Bool
    private let serverPath: String
    private let cliPath: String
    private var process: ChildProcess?
    /// The directory is ours to remove (made by `temporary()`).
    private var ownsDirectory = false

    /// Starts redis-server and waits until it answers PING (loading an existing AOF included).
    package init(configFile: String? = nil, directory: URL, port: Int, persistent: Bool) throws(FixtureError) {
        guard let server = ProcessTools.find("redis-server"), let cli = ProcessTools.find("redis-cli") else {
            throw FixtureError("redis-server or redis-cli not found; run scripts/bootstrap")
        }
        serverPath = server
        cliPath = cli
        self.configFile = configFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        self.directory = directory
        self.port = port
        isPersistent = persistent
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try start()
    }

    /// A throwaway server in a fresh temporary directory on a free port.
    package static func temporary() throws -> RedisServerProcess {
        let directory = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-redis")
        do {
            let server = try RedisServerProcess(directory: directory, port: LoopbackPorts.freePort(), persistent: false)
            server.ownsDirectory = true
            return server
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    deinit {
        kill()
        if ownsDirectory { try? FileManager.default.removeItem(at: directory) }
    }

    /// `redis://127.0.0.1:<port>/0`.
    package var url: String { "redis://127.0.0.1:\(port)/0" }

    /// Starts (or restarts) the server on the same port and directory and waits until it
    /// answers PING. `--daemonize no`: a daemonizing child would keep Foundation from ever
    /// seeing it exit (see `ChildProcess`).
    package func start() throws(FixtureError) {
        var arguments = configFile.map { [$0] } ?? []
        arguments += ["--port", String(port), "--dir", directory.path, "--daemonize", "no", "--supervised", "no"]
        if configFile == nil { arguments += ["--bind", "127.0.0.1"] }
        if !isPersistent { arguments += ["--save", "", "--appendonly", "no"] }
        let logFile = directory.appendingPathComponent("redis.log")
        let process: ChildProcess
        do {
            process = try ChildProcess(
                name: "redis-server", executable: serverPath, arguments: arguments, logFile: logFile)
        } catch {
            throw FixtureError("cannot start redis-server: \(error)")
        }
        self.process = process
        let up = Polling.waitUntil(timeout: .seconds(30)) {
            process.isRunning && (try? cli("PING")) == "PONG"
        }
        guard up else {
            process.stop()
            throw FixtureError("redis-server did not answer on port \(port); see \(logFile.path)")
        }
    }

    /// Runs `redis-cli --raw` against this server and returns its output, trimmed.
    @discardableResult
    package func cli(_ arguments: String...) throws(FixtureError) -> String {
        try cli(arguments)
    }

    /// Runs `redis-cli --raw` against this server and returns its output, trimmed.
    @discardableResult
    package func cli(_ arguments: [String]) throws(FixtureError) -> String {
        try ProcessTools.run(cliPath, ["-h", "127.0.0.1", "-p", String(port), "--raw"] + arguments)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Graceful stop: SIGTERM (redis-server flushes the AOF), SIGKILL after `grace`.
    package func stop(grace: Duration = .seconds(10)) {
        process?.stop(grace: grace)
        process = nil
    }

    /// SIGKILL: the server vanishes as if it crashed.
    package func kill() {
        process?.stop(signal: SIGKILL)
        process = nil
    }

    /// SIGSTOP: the server keeps its sockets but answers nothing (a hung Redis).
    package func pause() {
        process?.signal(SIGSTOP)
    }

    /// SIGCONT after `pause()`.
    package func resume() {
        process?.signal(SIGCONT)
    }
}

/// The same fixture calls for async code (every test body): the blocking work runs off the
/// cooperative pool (`OffPool`), so a server that takes seconds to start or stop does not hold
/// one of its threads.
extension RedisServerProcess {
    /// `temporary()` off the cooperative pool.
    package static func temporary() async throws -> RedisServerProcess {
        try await OffPool.run { try temporary() }
    }

    /// `start()` off the cooperative pool.
    package func start() async throws(FixtureError) {
        try await OffPool.run { () throws(FixtureError) in try self.start() }
    }

    /// `stop(grace:)` off the cooperative pool.
    package func stop(grace: Duration = .seconds(10)) async {
        await OffPool.run { self.stop(grace: grace) }
    }

    /// `kill()` off the cooperative pool.
    package func kill() async {
        await OffPool.run { self.kill() }
    }
}
