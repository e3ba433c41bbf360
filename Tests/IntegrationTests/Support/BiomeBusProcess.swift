import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The built `biomebus` executable run as a child process, its stderr captured to a file.
final class BiomeBusProcess: @unchecked Sendable {
    let process = Process()
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
        directory = try TestEnvironment.makeTemporaryDirectory(prefix: "biomebus-cli")
        logFile = directory.appendingPathComponent("stderr.log")
        stdoutFile = directory.appendingPathComponent("stdout.log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: Self.executablePath)
        process.currentDirectoryURL = Self.packageRoot
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("BIOMEBUS_") { env[key] = nil }
        env.merge(environment) { $1 }
        process.environment = env
        process.standardError = try FileHandle(forWritingTo: logFile)
        process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    var stderr: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Polls stderr until it contains `text`.
    func waitForLog(_ text: String, timeout: Duration = .seconds(20)) -> Bool {
        TestEnvironment.waitUntil(timeout: timeout) { stderr.contains(text) }
    }

    func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    /// The exit status, or nil if the process is still running after `timeout`.
    func waitForExit(timeout: Duration = .seconds(15)) -> Int32? {
        guard TestEnvironment.waitUntil(timeout: timeout, { !process.isRunning }) else { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
