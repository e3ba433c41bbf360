import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real `redis-server` on a free loopback port with its data in a temporary directory.
/// Stopped and removed when the object goes away.
final class RedisServer: @unchecked Sendable {
    let port: Int
    let directory: URL
    private var process: Process?
    private let serverPath: String
    private let cliPath: String

    init() throws {
        serverPath = try TestEnvironment.executable("redis-server")
        cliPath = try TestEnvironment.executable("redis-cli")
        port = TestEnvironment.freePort()
        directory = try TestEnvironment.makeTemporaryDirectory(prefix: "biomebus-redis")
        try start()
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    var url: String { "redis://127.0.0.1:\(port)/0" }

    /// Starts (or restarts) the server on the same port and waits until it answers PING.
    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: serverPath)
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--dir", directory.path, "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--logfile", directory.appendingPathComponent("redis.log").path,
        ]
        try process.run()
        self.process = process
        let up = TestEnvironment.waitUntil { (try? cli("PING")) == "PONG" }
        guard up else { throw FixtureError("redis-server on port \(port) did not answer PING") }
    }

    /// Runs `redis-cli` against this server and returns its raw output, trimmed.
    @discardableResult
    func cli(_ arguments: String...) throws -> String {
        try cli(arguments)
    }

    func cli(_ arguments: [String]) throws -> String {
        try TestEnvironment.run(cliPath, ["-h", "127.0.0.1", "-p", String(port), "--raw"] + arguments)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// XLEN of `key`.
    func streamLength(_ key: String) throws -> Int {
        Int(try cli("XLEN", key)) ?? -1
    }

    /// Every entry of a stream as (id, fields).
    func entries(_ key: String) throws -> [(id: String, fields: [String: String])] {
        let lines = try cli("XRANGE", key, "-", "+").split(separator: "\n", omittingEmptySubsequences: false).map(
            String.init)
        // --raw prints: id, then field/value lines; ids look like "<ms>-<seq>".
        var result: [(id: String, fields: [String: String])] = []
        var index = 0
        while index < lines.count {
            let id = lines[index]
            index += 1
            var fields: [String: String] = [:]
            while index + 1 < lines.count, !Self.isEntryID(lines[index]) {
                fields[lines[index]] = lines[index + 1]
                index += 2
            }
            if !id.isEmpty { result.append((id, fields)) }
        }
        return result
    }

    private static func isEntryID(_ line: String) -> Bool {
        let parts = line.split(separator: "-")
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }

    /// SIGKILL: the server vanishes as if it crashed.
    func kill() {
        guard let process, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGSTOP: the server keeps its sockets but answers nothing (a hung Redis).
    func pause() {
        if let process { Glibc.kill(process.processIdentifier, SIGSTOP) }
    }

    /// SIGCONT after `pause()`.
    func resume() {
        if let process { Glibc.kill(process.processIdentifier, SIGCONT) }
    }
}
