import ArgumentParser
import BusActivation
import BusConsumer
import BusGateway
import BusService
import Logging

/// `--prepared-statements` and `--server-timeouts`, the Postgres client switches of activation
/// and consumer.
struct PostgresTuningOptions: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: "Prepare statements once per connection (off behind pgbouncer < 1.21).")
    var preparedStatements = true

    @Flag(
        inversion: .prefixedNo,
        help: "Send statement_timeout and lock_timeout at connect (off behind a pooler that refuses startup options).")
    var serverTimeouts = true
}

/// The event loops a service runs: `--threads`, or one per core; 1 … 256.
func loopCount(_ threads: Int?) throws -> Int {
    let count = threads ?? ServiceHost.processorCount
    guard (1...256).contains(count) else { throw CLIError("--threads: expected 1 to 256, got \(count)") }
    return count
}

/// What `serve` needs of a service.
protocol ServedService: AnyObject {
    func start()
    func shutdown()
}

extension GatewayService: ServedService {}
extension ActivationService: ServedService {}
extension ConsumerService: ServedService {}

/// Builds a service (a bind failure becomes a one-line error), starts it, runs `started` (to log
/// where it listens), and serves until SIGINT or SIGTERM, then shuts it down.
func serve<Service: ServedService>(
    _ name: String, signals: TerminationSignal, logger: Logger, make: () throws -> Service,
    started: (Service) -> Void
) throws {
    let service: Service
    do {
        service = try make()
    } catch {
        throw CLIError("\(error)")
    }
    service.start()
    started(service)
    serveUntilSignalled(name, signals: signals, logger: logger, shutdown: service.shutdown)
}

/// Waits for SIGINT/SIGTERM, then shuts the service down, logging each step as
/// "<name> shutting down" and "<name> stopped".
func serveUntilSignalled(_ name: String, signals: TerminationSignal, logger: Logger, shutdown: () -> Void) {
    let signal = signals.wait()
    logger.info("\(name) shutting down", metadata: ["signal": "\(TerminationSignal.name(signal))"])
    shutdown()
    logger.info("\(name) stopped")
}
