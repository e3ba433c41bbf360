import BusHTTP
import BusLoop
import BusPostgres
import BusService
import Logging

/// The activation service: N loops, each with an HTTP listener on the shared port and a pool
/// holding its share of `poolSize` Postgres connections, so the process never holds more.
package final class ActivationService: Sendable {
    package let configuration: Configuration
    private let host: ServiceHost
    private let metrics: ActivationMetrics
    /// The port actually bound.
    package var port: Int { host.port! }

    /// Builds the loops and binds the port. Run `Schema.migrate` first.
    package init(configuration: Configuration, logger: Logger) throws(BindError) {
        self.configuration = configuration
        let shares = PostgresPool.shares(total: configuration.poolSize, loops: configuration.loopCount)
        let health = ReadinessSignal(members: shares.count)
        let metrics = ActivationMetrics(loops: shares.count, http: configuration.http.counters)
        self.metrics = metrics
        host = try ServiceHost(
            name: "activation", count: shares.count, listen: configuration.listen,
            drainTimeout: configuration.drainTimeout
        ) { index, loop in
            ActivationWorker(
                index: index, loop: loop, configuration: configuration, connections: shares[index], health: health,
                metrics: metrics, logger: logger)
        }
    }

    package func start() {
        host.start()
    }

    /// Requests answered so far and their latencies (for `biomebus up`'s summary).
    package var requestLatency: ShardedHistogram.Snapshot { metrics.requests.duration.snapshot() }

    /// Stops accepting, drains in-flight requests, closes the pools and joins the loops.
    package func shutdown() {
        host.shutdown()
    }
}
