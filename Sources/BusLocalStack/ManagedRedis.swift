import BusDomain
import BusOps
import Foundation

/// The local stack's own redis-server: `./redis.conf`, data under `<data>/redis`, loopback.
final class ManagedRedis {
    let address: RedisAddress
    private let process: ManagedProcess
    private let cli: String

    /// Starts redis-server and waits until it answers PING (loading an existing AOF included).
    init(configFile: String, dataDirectory: URL, preferredPort: Int) throws(LocalStackError) {
        guard let server = ManagedProcess.find("redis-server"), let cli = ManagedProcess.find("redis-cli") else {
            throw LocalStackError("redis-server or redis-cli not found; run scripts/bootstrap (or pass --redis URL)")
        }
        guard FileManager.default.fileExists(atPath: configFile) else {
            throw LocalStackError("\(configFile) not found; run from the repository root (or pass --redis URL)")
        }
        let directory = dataDirectory.appendingPathComponent("redis")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let port = LoopbackPorts.choose(preferred: preferredPort)
        self.cli = cli
        self.address = RedisAddress(host: "127.0.0.1", port: port)
        do {
            process = try ManagedProcess(
                name: "redis-server", executable: server,
                arguments: [
                    URL(fileURLWithPath: configFile).standardizedFileURL.path, "--port", String(port), "--dir",
                    directory.path,
                    "--supervised", "no",
                ],
                logFile: directory.appendingPathComponent("redis.log"))
        } catch {
            throw LocalStackError("cannot start redis-server: \(error)")
        }
        let up = poll(timeout: .seconds(30)) { self.ping() }
        guard up else {
            process.stop()
            throw LocalStackError("redis-server did not answer on port \(port); see \(directory.path)/redis.log")
        }
    }

    private func ping() -> Bool {
        guard process.isRunning else { return false }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: cli)
        probe.arguments = ["-h", "127.0.0.1", "-p", String(address.port), "PING"]
        let output = Pipe()
        probe.standardOutput = output
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        probe.waitUntilExit()
        return text.hasPrefix("PONG")
    }

    /// Graceful stop: redis-server flushes the AOF on SIGTERM.
    func stop() {
        process.stop()
    }
}

/// A reason the local stack cannot start, in one human line.
public struct LocalStackError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
