import BusDomain
import BusHTTP
import BusLoop
import BusPostgres
import BusService
import Logging

/// The activation service: N loops, each with an HTTP listener on the shared port and a pool
/// holding its share of `poolSize` Postgres connections, so the process never holds more.
public final class ActivationService: Sendable {
    public let configuration: ActivationConfiguration
    private let loops: WorkerLoops<ActivationWorker>
    /// The port actually bound.
    public let port: Int

    /// Builds the loops and binds the port. Run `Schema.migrate` first.
    public init(configuration: ActivationConfiguration, logger: Logger) throws(BindError) {
        self.configuration = configuration
        let shares = PostgresPool.shares(total: configuration.poolSize, loops: configuration.loopCount)
        var address = configuration.listen
        do {
            loops = try WorkerLoops(name: "activation", count: shares.count) { index, loop in
                let worker = ActivationWorker(
                    loop: loop, configuration: configuration, connections: shares[index], logger: logger)
                address.port = try worker.bind(address)
                return worker
            }
        } catch let error as BindError {
            throw error
        } catch {
            fatalError("unexpected error \(error)")
        }
        port = address.port
    }

    public func start() {
        loops.start()
    }

    /// Stops accepting, drains in-flight requests, closes the pools and joins the loops.
    public func shutdown() {
        let drainTimeout = configuration.drainTimeout
        loops.stop { worker, done in worker.drain(timeout: drainTimeout, then: done) }
    }
}
