import BusDomain
import BusHTTP
import BusLoop
import BusService
import Logging
import Synchronization

/// The spawn gateway: N event loops, each with its own HTTP listener (sharing the port) and
/// its own connection to every distinct region Redis. It validates spawns and appends them to
/// their biome's stream; nothing else.
public final class Gateway: Sendable {
    public let configuration: GatewayConfiguration
    private let loops: WorkerLoops<GatewayWorker>
    private let readiness: RegionReadiness
    private let metrics: GatewayMetrics
    /// The port actually bound (differs from the configured one when that is 0).
    public let port: Int

    /// Builds the loops, connects to Redis and binds the port; throws if the port cannot be
    /// bound. Serving starts with `start()`.
    public init(configuration: GatewayConfiguration, logger: Logger) throws(BindError) {
        self.configuration = configuration
        let readiness = RegionReadiness(catalog: configuration.catalog, loops: configuration.threads, logger: logger)
        self.readiness = readiness
        let processTag = ChestIDGenerator.makeProcessTag()
        let metrics = GatewayMetrics(catalog: configuration.catalog, loops: configuration.threads)
        self.metrics = metrics
        (loops, port) = try WorkerLoops.listening(
            name: "gateway", count: configuration.threads, on: configuration.listen,
            makeWorker: { index, loop in
                GatewayWorker(
                    index: index, loop: loop, configuration: configuration, processTag: processTag,
                    readiness: readiness, metrics: metrics, logger: logger)
            },
            bind: { worker, address throws(BindError) in try worker.bind(address) })
    }

    /// Spawn requests answered so far and their latencies (for `biomebus up`'s summary).
    public var spawnLatency: ShardedHistogram.Snapshot { metrics.spawnDuration.snapshot() }

    /// Starts the loops: connections open and requests are served.
    public func start() {
        loops.start()
    }

    /// Stops accepting, lets in-flight requests finish (up to the drain timeout), closes Redis
    /// connections and joins the loop threads. Blocks; call from outside the loops.
    public func shutdown() {
        let drainTimeout = configuration.drainTimeout
        loops.stop { worker, done in worker.drain(timeout: drainTimeout, then: done) }
    }
}

/// Which regions every loop can reach, so that "region up/down" is logged once per change
/// rather than once per loop: up when every loop's connection works, down as soon as one fails.
final class RegionReadiness: Sendable {
    private struct State {
        /// Per region, per loop: is that loop's connection usable?
        var ready: [[Bool]]
        /// Per region, what was last logged (nil: nothing yet).
        var announced: [Bool?]
        /// Per region, the latest connection error any loop saw.
        var errors: [String?]
    }

    /// Locked only when a connection changes state, never per request.
    private let state: Mutex<State>
    private let catalog: RegionCatalog
    private let logger: Logger

    init(catalog: RegionCatalog, loops: Int, logger: Logger) {
        self.catalog = catalog
        self.logger = logger
        state = Mutex(
            State(
                ready: Array(repeating: Array(repeating: false, count: loops), count: catalog.regions.count),
                announced: Array(repeating: nil, count: catalog.regions.count),
                errors: Array(repeating: nil, count: catalog.regions.count)))
    }

    /// Loop `loop`'s connection for `region` became usable, or failed.
    func connection(forRegion region: Int, loop: Int, ready: Bool, error: String?) {
        let change: Bool? = state.withLock { state in
            state.ready[region][loop] = ready
            if !ready { state.errors[region] = error }
            let allReady = state.ready[region].allSatisfy { $0 }
            let now = ready ? (allReady ? true : nil) : false
            guard let now, state.announced[region] != now else { return nil }
            state.announced[region] = now
            return now
        }
        let config = catalog.regions[region]
        switch change {
        case true?:
            logger.info("region up", metadata: ["region": "\(config.name)", "redis": "\(config.redis)"])
        case false?:
            logger.warning(
                "region down",
                metadata: ["region": "\(config.name)", "redis": "\(config.redis)", "error": "\(error ?? "unknown")"])
        case nil:
            break
        }
    }

    /// Regions some loop cannot reach yet, with the latest error: what `/readyz` reports.
    /// Locks briefly; never called per spawn.
    func unreachableRegions() -> [(region: RegionConfig, error: String)] {
        state.withLock { state in
            catalog.regions.indices.filter { !state.ready[$0].allSatisfy { $0 } }.map {
                (catalog.regions[$0], state.errors[$0] ?? "connecting")
            }
        }
    }
}
