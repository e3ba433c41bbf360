import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started and stopped by its owner: its output goes to a log file (appended),
/// and `stop()` sends SIGTERM, waits, then SIGKILLs.
///
/// Two traps of Foundation's `Process` shape how children are run here:
/// - Foundation learns that a child exited when a socket it hands the child closes. A child
///   that daemonizes (`pg_ctl start`, `redis-server --daemonize yes`) passes that socket to
///   the daemon, and `waitUntilExit` never returns. Servers therefore run in the foreground
///   as the child itself, and exits are awaited by polling `isRunning` with a deadline.
/// - libdispatch watches SIGCHLD through a signalfd, which only sees the signal if no thread
///   can receive it itself: every event loop thread blocks all asynchronous signals
///   (`LoopThread`). A thread of our own that left SIGCHLD unblocked would make `isRunning`
///   stay true forever.
///
/// Foundation starts each child in its own process group, so Ctrl-C in a terminal reaches
/// only the parent, which stops its children in order.
package final class ChildProcess: @unchecked Sendable {
    // @unchecked Sendable: `Process` is thread-safe for the calls made here (isRunning,
    // processIdentifier, terminationStatus); nothing else is mutable.
    package let name: String
    /// Where standard output (and standard error, unless given its own file) goes.
    package let logFile: URL
    private let process = Process()

    /// Starts `executable` now. The log files are created if missing and appended to;
    /// `environment` nil inherits ours; standard input is /dev/null.
    package init(
        name: String, executable: String, arguments: [String], logFile: URL, errorLogFile: URL? = nil,
        environment: [String: String]? = nil, currentDirectory: URL? = nil
    ) throws {
        self.name = name
        self.logFile = logFile
        let output = try Self.append(to: logFile)
        defer { try? output.close() }
        let errors = try errorLogFile.map(Self.append(to:))
        defer { try? errors?.close() }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        process.standardOutput = output
        process.standardError = errors ?? output
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    package var isRunning: Bool { process.isRunning }
    package var pid: Int32 { process.processIdentifier }

    /// The exit status (or the signal that ended it); only meaningful once `isRunning` is false.
    package var terminationStatus: Int32 { process.terminationStatus }

    /// Sends `number` to the child if it still runs.
    package func signal(_ number: Int32) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, number)
    }

    /// `signal` (SIGTERM by default), then SIGKILL if it has not exited after `grace`. Never
    /// blocks for longer than twice `grace`: Foundation notices an exit only once every holder
    /// of the child's descriptors is gone, which a stray grandchild can delay.
    package func stop(signal: Int32 = SIGTERM, grace: Duration = .seconds(10)) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
        if waitForExit(grace) { return }
        kill(process.processIdentifier, SIGKILL)
        _ = waitForExit(grace)
    }

    /// Polls until the child has exited; false after `timeout`.
    @discardableResult
    package func waitForExit(_ timeout: Duration) -> Bool {
        Polling.waitUntil(timeout: timeout) { !process.isRunning }
    }

    /// `stop` for async code: the waits suspend rather than sleep a thread.
    package func stop(signal: Int32 = SIGTERM, grace: Duration = .seconds(10)) async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
        if await waitForExit(grace) { return }
        kill(process.processIdentifier, SIGKILL)
        _ = await waitForExit(grace)
    }

    /// `waitForExit` for async code: polls without holding a thread.
    @discardableResult
    package func waitForExit(_ timeout: Duration) async -> Bool {
        await Polling.waitUntilAsync(timeout: timeout) { !process.isRunning }
    }

    private static func append(to file: URL) throws -> FileHandle {
        if !FileManager.default.fileExists(atPath: file.path) {
            _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: file)
        handle.seekToEndOfFile()
        return handle
    }
}
