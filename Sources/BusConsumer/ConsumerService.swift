import BusHTTP
import BusLoop
import BusService
import Logging

/// A biome-bound consumer on its own loop thread: the region consumer, its Postgres pool and
/// handler, and an optional admin listener.
public final class ConsumerService: Sendable {
    public let configuration: Configuration
    private let host: ServiceHost
    /// The admin port actually bound, if any.
    public var adminPort: Int? { host.port }

    public init(configuration: Configuration, logger: Logger) throws(BindError) {
        self.configuration = configuration
        host = try ServiceHost(
            name: "consumer-\(configuration.region.name)", count: 1, listen: configuration.admin,
            drainTimeout: configuration.drainTimeout
        ) { _, loop in
            ConsumerWorker(loop: loop, configuration: configuration, logger: logger)
        }
    }

    public func start() {
        host.start()
    }

    /// Stops reading, drains in-flight entries (acknowledging successes), closes everything.
    public func shutdown() {
        host.shutdown()
    }
}
