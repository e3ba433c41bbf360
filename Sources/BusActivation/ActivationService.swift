import BusDomain
import BusHTTP
import BusLoop
import BusPostgres
import BusService
import Logging
import Metrics

/// The activation service: N loops, each with an HTTP listener on the shared port and a pool
/// holding its share of `poolSize` Postgres connections, so the process never holds more.
public final class ActivationService: Sendable {
    public let configuration: ActivationConfiguration
    private let loops: WorkerLoops<ActivationWorker>
    private let metrics: ActivationMetrics
    /// The port actually bound.
    public let port: Int

    /// Builds the loops and binds the port. Run `Schema.migrate` first.
    public init(configuration: ActivationConfiguration, logger: Logger) throws(BindError) {
        self.configuration = configuration
        let shares = PostgresPool.shares(total: configuration.poolSize, loops: configuration.loopCount)
        let health = ReadinessSignal(members: shares.count)
        let metrics = ActivationMetrics(loops: shares.count, http: configuration.http.counters)
        self.metrics = metrics
        (loops, port) = try WorkerLoops.listening(
            name: "activation", count: shares.count, on: configuration.listen,
            makeWorker: { index, loop in
                ActivationWorker(
                    index: index, loop: loop, configuration: configuration, connections: shares[index], health: health,
                    metrics: metrics, logger: logger)
            },
            bind: { worker, address throws(BindError) in try worker.bind(address) })
    }

    public func start() {
        loops.start()
    }

    /// Requests answered so far and their latencies (for `biomebus up`'s summary).
    public var requestLatency: ShardedHistogram.Snapshot { metrics.duration.snapshot() }

    /// Stops accepting, drains in-flight requests, closes the pools and joins the loops.
    public func shutdown() {
        let drainTimeout = configuration.drainTimeout
        loops.stop { worker, done in worker.drain(timeout: drainTimeout, then: done) }
    }
}

/// The activation service's metrics, shared by its loops (counters are atomics; latency is a
/// histogram sharded per loop).
final class ActivationMetrics: Sendable {
    let service: ServiceMetrics
    let duration: ShardedHistogram

    init(loops: Int, http: HTTPServerCounters) {
        duration = ShardedHistogram(
            name: "biomebus_activation_request_duration_seconds",
            help: "Time from receiving an activation API request to answering it.",
            buckets: ShardedHistogram.latencyBuckets, shards: loops)
        service = ServiceMetrics(histograms: [duration], http: http)
    }

    func requests(route: String, status: Int) -> Metrics.Counter {
        service.counter(
            "biomebus_activation_requests_total", help: "Activation API requests answered, by route and HTTP status.",
            [("route", route), ("status", String(status))])
    }

    /// One loop's pool, as gauges labelled by loop (pool figures are readable on their loop only).
    func publish(loop: Int, pool: PostgresPool.Statistics) {
        let labels = [("loop", String(loop))]
        service.recordPool(pool, labels: labels)
    }
}
