import ArgumentParser
import BusHTTP
import BusLocalStack
import BusLoop
import BusRegions
import BusService
import Foundation

struct UpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract:
            "The local stack: its own redis-server (./redis.conf, data in .biomebus/) and the gateway, in one process."
    )

    @Option(help: "Use this Redis for every region instead of starting one (redis://host:port/db).")
    var redis: String?

    @Option(
        help: "Use this Postgres instead of starting one (postgresql://user@host:port/db). Env: BIOMEBUS_POSTGRES_URL.")
    var postgres: String?

    @Option(help: "Directory of region files. Env: BIOMEBUS_REGIONS. Default ./regions.")
    var regions: String?

    @Option(help: "Gateway address, HOST:PORT. Default 127.0.0.1:8080 (the next free port if taken).")
    var listen: String?

    @Option(help: "Activation service address, HOST:PORT. Default 127.0.0.1:8081 (the next free port if taken).")
    var activationListen: String = "127.0.0.1:8081"

    @Option(help: "Where the local servers keep their data.")
    var dataDir: String = ".biomebus"

    @Flag(help: "Also drive simulated players: spawn chests, read them, open them (some raced), and report.")
    var demo = false

    @Option(help: "Seconds between live summary lines (0 for none).")
    var summaryEvery: Double = 10

    @OptionGroup var auth: AuthOption

    func run() throws {
        try failingCleanly {
            var options = LocalStack.Options()
            options.regionsDirectory = regions ?? ProcessInfo.processInfo.environment["BIOMEBUS_REGIONS"] ?? "regions"
            options.redisURL = redis
            options.postgresURL = postgres ?? ProcessInfo.processInfo.environment["BIOMEBUS_POSTGRES_URL"]
            options.dataDirectory = dataDir
            options.gatewayListen = try listenAddress(listen, default: "127.0.0.1:8080")
            guard let activationAddress = ListenAddress(activationListen) else {
                throw CLIError("--activation-listen: expected HOST:PORT, got \"\(activationListen)\"")
            }
            options.activationListen = activationAddress
            let logger = Logs.logger("up")
            // A catalog that does not load is reported by the stack itself, just after.
            let regionNames = (try? RegionCatalog.load(directory: options.regionsDirectory)).map {
                Set($0.regions.map(\.name))
            }
            options.authFile = try auth.load(regionNames: regionNames)
            options.authFilePath = auth.path
            if options.authFile == nil {
                warnRunningOpen("up", what: "anyone who reaches the stack may spawn and open chests", logger: logger)
            }
            let signals = TerminationSignal()
            let stack = LocalStack(logger: logger)
            do {
                try stack.start(options)
            } catch {
                throw CLIError("\(error)")
            }
            // Through FileHandle, unbuffered, so the text lands between the log lines in order.
            FileHandle.standardOutput.write(Data(stack.welcome().utf8))
            let summaries = SummaryPrinter(stack: stack, every: summaryEvery)
            if demo {
                Thread.detachNewThread {
                    if let report = stack.runDemo() {
                        FileHandle.standardOutput.write(Data((report.description + "\n").utf8))
                    }
                }
            }
            let signal = signals.wait()
            summaries.stop()
            logger.info("stopping the local stack", metadata: ["signal": "\(TerminationSignal.name(signal))"])
            stack.stop()
            logger.info("local stack stopped")
        }
    }
}

/// Prints `LocalStack.summary` every few seconds on its own thread; `stop()` wakes the thread
/// and waits for it, so no summary runs while the stack shuts down.
final class SummaryPrinter: @unchecked Sendable {
    // @unchecked Sendable: the semaphores are the only shared state.
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let running: Bool

    init(stack: LocalStack, every seconds: Double) {
        running = seconds > 0
        guard running else { return }
        Thread.detachNewThread { [self] in
            var previous = (spawns: 0, activations: 0, at: Date())
            while wake.wait(timeout: .now() + seconds) == .timedOut {
                FileHandle.standardOutput.write(Data(("summary: " + stack.summary(since: &previous) + "\n").utf8))
            }
            finished.signal()
        }
    }

    func stop() {
        guard running else { return }
        wake.signal()
        finished.wait()
    }
}
