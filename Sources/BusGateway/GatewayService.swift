import BusDomain
import BusHTTP
import BusLoop
import BusService
import Logging

/// The spawn gateway: N event loops, each with its own HTTP listener (sharing the port) and
/// its own connection to every distinct region Redis. It validates spawns and appends them to
/// their biome's stream; nothing else.
package final class GatewayService: Sendable {
    package let configuration: Configuration
    private let host: ServiceHost
    private let metrics: GatewayMetrics
    /// The port actually bound (differs from the configured one when that is 0).
    package var port: Int { host.port! }

    /// Builds the loops, connects to Redis and binds the port; throws if the port cannot be
    /// bound. Serving starts with `start()`.
    package init(configuration: Configuration, logger: Logger) throws(BindError) {
        self.configuration = configuration
        let readiness = RegionReadiness(catalog: configuration.catalog, loops: configuration.threads, logger: logger)
        let control = RegionControl(regions: configuration.catalog.regions.count)
        let processTag = ChestIDGenerator.makeProcessTag()
        let metrics = GatewayMetrics(loops: configuration.threads, http: configuration.http.counters)
        self.metrics = metrics
        host = try ServiceHost(
            name: "gateway", count: configuration.threads, listen: configuration.listen,
            drainTimeout: configuration.drainTimeout
        ) { index, loop in
            GatewayWorker(
                index: index, loop: loop, configuration: configuration, processTag: processTag,
                readiness: readiness, control: control, metrics: metrics, logger: logger)
        }
    }

    /// Spawn requests answered so far and their latencies (for `biomebus up`'s summary).
    package var spawnLatency: ShardedHistogram.Snapshot { metrics.spawns.duration.snapshot() }

    /// Starts the loops: connections open and requests are served.
    package func start() {
        host.start()
    }

    /// Stops accepting, lets in-flight requests finish (up to the drain timeout), closes Redis
    /// connections and joins the loop threads. Blocks; call from outside the loops.
    package func shutdown() {
        host.shutdown()
    }
}
