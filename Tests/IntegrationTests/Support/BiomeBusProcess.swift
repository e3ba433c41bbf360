import BusTesting
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The built `biomebus` executable run as a child process, its stderr captured to a file.
final class BiomeBusProcess: @unchecked Sendable {
    // @unchecked Sendable: every member is immutable; `ChildProcess` is Sendable.
    let child: ChildProcess
    let logFile: URL
    let stdoutFile: URL
    private let directory: URL

    /// The executable next to the test bundle (or `BIOMEBUS_BIN`).
    static var executablePath: String {
        if let path = ProcessInfo.processInfo.environment["BIOMEBUS_BIN"] { return path }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundle, bundle.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("biomebus").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return bundle.appendingPathComponent("biomebus").path
    }

    /// The package root (where `redis.conf` and `regions/` are), as `biomebus up` expects.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        directory = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-cli")
        logFile = directory.appendingPathComponent("stderr.log")
        stdoutFile = directory.appendingPathComponent("stdout.log")
        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("BIOMEBUS_") { env[key] = nil }
        env.merge(environment) { $1 }
        child = try ChildProcess(
            name: "biomebus", executable: Self.executablePath, arguments: arguments, logFile: stdoutFile,
            errorLogFile: logFile, environment: env, currentDirectory: Self.packageRoot)
    }

    deinit {
        child.stop(signal: SIGKILL)
        try? FileManager.default.removeItem(at: directory)
    }

    var stderr: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Polls stderr until it contains `text`.
    func waitForLog(_ text: String, timeout: Duration = .seconds(20)) -> Bool {
        Polling.waitUntil(timeout: timeout) { stderr.contains(text) }
    }

    func signal(_ number: Int32) {
        child.signal(number)
    }

    /// The exit status, or nil if the process is still running after `timeout`.
    func waitForExit(timeout: Duration = .seconds(15)) -> Int32? {
        guard child.waitForExit(timeout) else { return nil }
        return child.terminationStatus
    }
}

/// The waits for async code (every test body): polls without holding a cooperative thread.
extension BiomeBusProcess {
    /// Polls stderr until it contains `text`.
    func waitForLog(_ text: String, timeout: Duration = .seconds(20)) async -> Bool {
        await Polling.waitUntilAsync(timeout: timeout) { stderr.contains(text) }
    }

    /// The exit status, or nil if the process is still running after `timeout`.
    func waitForExit(timeout: Duration = .seconds(15)) async -> Int32? {
        guard await child.waitForExit(timeout) else { return nil }
        return child.terminationStatus
    }
}
