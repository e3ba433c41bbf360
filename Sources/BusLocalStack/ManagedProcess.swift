import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process the local stack started and must stop: output goes to a log file, and
/// `stop()` sends SIGTERM, waits, then SIGKILLs.
final class ManagedProcess {
    let name: String
    let logFile: URL
    private let process = Process()

    init(name: String, executable: String, arguments: [String], logFile: URL) throws {
        self.name = name
        self.logFile = logFile
        if !FileManager.default.fileExists(atPath: logFile.path) {
            FileManager.default.createFile(atPath: logFile.path, contents: nil)
        }
        let log = try FileHandle(forWritingTo: logFile)
        log.seekToEndOfFile()
        // Foundation starts each child in its own process group, so Ctrl-C in the terminal
        // reaches only `biomebus up`, which stops its children in order after the services.
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var isRunning: Bool { process.isRunning }
    var pid: Int32 { process.processIdentifier }

    /// `signal` (SIGTERM by default), then SIGKILL if it has not exited after `grace`. Never
    /// blocks for longer than twice `grace`: Foundation notices an exit only once every holder
    /// of the child's descriptors is gone, which a stray grandchild can delay.
    func stop(signal: Int32 = SIGTERM, grace: Duration = .seconds(10)) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
        if waitForExit(grace) { return }
        kill(process.processIdentifier, SIGKILL)
        _ = waitForExit(grace)
    }

    /// Polls until the child has exited; false after `timeout`.
    func waitForExit(_ timeout: Duration) -> Bool {
        poll(timeout: timeout) { !self.process.isRunning }
    }

    /// The full path of `name` on PATH or in the usual system directories.
    static func find(_ name: String, extraDirectories: [String] = []) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = extraDirectories + path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin"]
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes. Startup only.
func poll(timeout: Duration, _ condition: () -> Bool) -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return condition()
}
