import BusHTTP
import BusLoop
import BusService
import Logging

/// A biome-bound consumer on its own loop thread: the region consumer, its Postgres pool and
/// handler, and an optional admin listener.
package final class ConsumerService: Sendable {
    package let configuration: Configuration
    private let host: ServiceHost
    /// The admin port actually bound, if any.
    package var adminPort: Int? { host.port }

    package init(configuration: Configuration, logger: Logger) throws(BindError) {
        self.configuration = configuration
        host = try ServiceHost(
            name: "consumer-\(configuration.region.name)", count: 1, listen: configuration.admin,
            drainTimeout: configuration.drainTimeout
        ) { _, loop in
            ConsumerWorker(loop: loop, configuration: configuration, logger: logger)
        }
    }

    package func start() {
        host.start()
    }

    /// Stops reading, drains in-flight entries (acknowledging successes), closes everything.
    package func shutdown() {
        host.shutdown()
    }
}
