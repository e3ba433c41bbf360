import BusDomain
import BusHTTP
import BusLoop
import BusPostgres
import BusRegions
import BusService
import Logging

/// Everything a consumer process (or one consumer of `biomebus up`) needs.
public struct ConsumerServiceConfiguration: Sendable {
    public var region: RegionConfig
    /// The region's biomes this consumer reads (all of them by default).
    public var biomes: [BiomeID]
    public var consumerName: String
    public var postgresURL: String
    /// Where to serve /healthz, /readyz and /metrics; nil for none.
    public var admin: ListenAddress?
    /// Postgres connections for the handler.
    public var poolSize = 8
    /// Prepare statements once per connection; turn off behind a transaction-pooling
    /// pgbouncer older than 1.21 (docs/postgres-client.md).
    public var preparedStatements = true
    /// Send `statement_timeout`/`lock_timeout` at connect (docs/postgres-client.md).
    public var serverTimeouts = true
    /// How long SIGTERM waits for in-flight entries before leaving them pending for others.
    public var drainTimeout: Duration = .seconds(10)
    /// HTTP limits of the admin listener.
    public var http = HTTPServerConfiguration.standard

    public init(region: RegionConfig, biomes: [BiomeID], consumerName: String, postgresURL: String) {
        self.region = region
        self.biomes = biomes
        self.consumerName = consumerName
        self.postgresURL = postgresURL
    }
}

/// A biome-bound consumer on its own loop thread: the region consumer, its Postgres pool and
/// handler, and an optional admin listener.
public final class ConsumerService: Sendable {
    public let configuration: ConsumerServiceConfiguration
    private let loops: WorkerLoops<ConsumerWorker>
    /// The admin port actually bound, if any.
    public let adminPort: Int?

    public init(configuration: ConsumerServiceConfiguration, logger: Logger) throws(BindError) {
        self.configuration = configuration
        var adminPort: Int?
        // Before the worker exists: a worker dropped unstarted trips its pool's close check.
        try configuration.admin?.ensureNoListener()
        do {
            loops = try WorkerLoops(name: "consumer-\(configuration.region.name)", count: 1) { _, loop in
                let worker = ConsumerWorker(loop: loop, configuration: configuration, logger: logger)
                if let admin = configuration.admin { adminPort = try worker.bindAdmin(admin, http: configuration.http) }
                return worker
            }
        } catch let error as BindError {
            throw error
        } catch {
            fatalError("unexpected error \(error)")
        }
        self.adminPort = adminPort
    }

    public func start() {
        loops.start()
    }

    /// Stops reading, drains in-flight entries (acknowledging successes), closes everything.
    public func shutdown() {
        let timeout = configuration.drainTimeout
        loops.stop { worker, done in worker.drain(timeout: timeout, then: done) }
    }
}

final class ConsumerWorker {
    let loop: EventLoop
    private let pool: PostgresPool
    private let consumer: RegionConsumer
    private var admin: HTTPServer?
    private let metrics: ConsumerMetrics
    private var publishTimer: LoopTimer?

    init(loop: EventLoop, configuration: ConsumerServiceConfiguration, logger: Logger) {
        self.loop = loop
        var connection = PostgresConfiguration(url: configuration.postgresURL)
        connection.applicationName = "biomebus-consumer"
        let budget = Self.postgresTimeouts(handlerTimeoutMs: configuration.region.consumer.handlerTimeoutMs)
        connection.queryTimeout = budget.query
        connection.serverTimeouts = configuration.serverTimeouts
        var poolConfiguration = PostgresPoolConfiguration(
            connection: connection, maxConnections: configuration.poolSize)
        poolConfiguration.maxWaiters = configuration.region.consumer.maxInFlight * 2 + 16
        poolConfiguration.leaseTimeout = budget.lease
        // One connection kept open, so that /readyz reflects whether Postgres answers.
        poolConfiguration.minConnections = 1
        pool = PostgresPool(loop: loop, configuration: poolConfiguration)
        let handler = PostgresChestHandler(loop: loop, pool: pool, preparedStatements: configuration.preparedStatements)
        consumer = RegionConsumer(
            loop: loop,
            configuration: .init(
                region: configuration.region, biomes: configuration.biomes, consumerName: configuration.consumerName),
            handler: handler, logger: logger)
        metrics = ConsumerMetrics(region: configuration.region.name, http: configuration.http.counters)
        consumer.onHandlerDuration = { [shard = metrics.handlerDuration.shard(0)] in shard.record(seconds: $0) }
        publishTimer = LoopTimer(loop: loop) { [unowned self] in
            metrics.publish(consumer.statistics, inFlight: consumer.inFlight, pool: pool.statistics)
            publishTimer?.schedule(after: .seconds(1))
        }
        loop.execute {
            [
                pool = LoopBound(pool, loop: loop), consumer = LoopBound(consumer, loop: loop),
                timer = LoopBound(publishTimer, loop: loop)
            ] in
            pool.value.start()
            consumer.value.start()
            timer.value?.schedule(after: .seconds(1))
        }
    }

    /// Lease and statement timeouts for a handler timeout. A handler call may take a lease and
    /// run a statement twice (the batch, then the entry alone after the batch was refused), so
    /// two of each must fit inside the handler timeout: 10 % + 35 %, twice, is 90 % of it, and
    /// no insert outlives its handler (the server's own `statement_timeout` sits under the
    /// query timeout). 5000 ms gives 500 ms and 1750 ms.
    static func postgresTimeouts(handlerTimeoutMs: Int) -> (lease: Duration, query: Duration) {
        let microseconds = Int64(handlerTimeoutMs) * 1000
        return (.microseconds(max(500, microseconds / 10)), .microseconds(max(1000, microseconds * 35 / 100)))
    }

    func bindAdmin(_ address: ListenAddress, http: HTTPServerConfiguration) throws(BindError) -> Int {
        var router = Router<AdminRoute>()
        router.add(.get, "/healthz", .health)
        router.add(.get, "/readyz", .ready)
        router.add(.get, "/metrics", .metrics)
        let server = HTTPServer(loop: loop, configuration: http) { [unowned self] request, responder in
            switch router.match(request.method, path: request.path) {
            case .found(.health, _):
                responder.send(.json(200, #"{"status":"ok"}"#))
            case .found(.ready, _):
                let ready = consumer.isConnected && pool.isHealthy
                responder.send(
                    ready
                        ? .json(200, #"{"status":"ready"}"#)
                        : .json(503, #"{"error":{"code":"not_ready","message":"Redis or Postgres is not reachable"}}"#))
            case .found(.metrics, _):
                metrics.publish(consumer.statistics, inFlight: consumer.inFlight, pool: pool.statistics)
                responder.send(.prometheus(metrics.service.render()))
            case let other:
                responder.send(other.errorResponse(method: request.method, path: request.path)!)
            }
        }
        admin = server
        return try server.bind(address)
    }

    func drain(timeout: Duration, then done: @escaping () -> Void) {
        admin?.stopAccepting()
        loop.completeOnce(within: timeout, consumer.stop(then:)) { [self] in
            publishTimer?.cancel()
            consumer.close()
            pool.close()
            admin?.close()
            done()
        }
    }
}

enum AdminRoute: Sendable {
    case health, ready, metrics
}

/// A consumer's metrics. Counters advance by the change since the last publish, so the
/// consumer's own statistics stay plain integers on its loop.
final class ConsumerMetrics {
    let service: ServiceMetrics
    let handlerDuration: ShardedHistogram
    private let region: String
    private var published = ConsumerStatistics()

    init(region: String, http: HTTPServerCounters) {
        self.region = region
        handlerDuration = ShardedHistogram(
            name: "biomebus_consumer_handler_duration_seconds", help: "Time the handler took per entry.",
            labels: [("region", region)], buckets: ShardedHistogram.latencyBuckets, shards: 1)
        service = ServiceMetrics(histograms: [handlerDuration], http: http)
    }

    func publish(_ statistics: ConsumerStatistics, inFlight: Int, pool: PostgresPool.Statistics) {
        let labels = [("region", region)]
        service.gauge("biomebus_consumer_in_flight", help: "Entries being handled now.", labels).record(inFlight)
        let counts: [(String, String, Int, Int)] = [
            (
                "biomebus_consumer_handled_total", "Entries handled and acknowledged.", statistics.handled,
                published.handled
            ),
            ("biomebus_consumer_failed_total", "Handler calls that failed.", statistics.failed, published.failed),
            (
                "biomebus_consumer_retried_total", "Entries scheduled for another delivery.", statistics.retried,
                published.retried
            ),
            (
                "biomebus_consumer_dead_lettered_total", "Entries moved to the dead-letter stream.",
                statistics.deadLettered, published.deadLettered
            ),
            (
                "biomebus_consumer_reclaimed_total", "Entries reclaimed from consumers that stopped.",
                statistics.reclaimed, published.reclaimed
            ),
            (
                "biomebus_consumer_trimmed_total", "Pending entries found trimmed from the stream and acknowledged.",
                statistics.trimmed, published.trimmed
            ),
            (
                "biomebus_consumer_lost_ownership_total", "Entries another consumer claimed while this one held them.",
                statistics.lostOwnership, published.lostOwnership
            ),
        ]
        for (name, help, now, before) in counts {
            service.counter(name, help: help, labels).increment(by: now - before)
        }
        published = statistics
        service.recordPool(pool, labels: labels)
    }
}
