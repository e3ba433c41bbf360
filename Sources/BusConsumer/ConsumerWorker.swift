import BusDomain
import BusHTTP
import BusLoop
import BusPostgres
import BusRegions
import BusService
import Logging

/// A consumer's share of its loop: the region consumer, its Postgres pool and handler, and the
/// admin listener when one is configured.
final class ConsumerWorker: ServiceWorker {
    let loop: EventLoop
    private let pool: PostgresPool
    private let consumer: RegionConsumer
    private let http: HTTPServerConfiguration
    private let adminEndpoints: AdminEndpoints
    private var admin: HTTPServer?
    private let metrics: ConsumerMetrics
    private var publishTimer: LoopTimer?

    init(loop: EventLoop, configuration: ConsumerService.Configuration, logger: Logger) {
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
        let pool = PostgresPool(loop: loop, configuration: poolConfiguration)
        self.pool = pool
        let handler = PostgresChestHandler(loop: loop, pool: pool, preparedStatements: configuration.preparedStatements)
        let consumer = RegionConsumer(
            loop: loop,
            configuration: .init(
                region: configuration.region, biomes: configuration.biomes, consumerName: configuration.consumerName),
            handler: handler, logger: logger)
        self.consumer = consumer
        let metrics = ConsumerMetrics(region: configuration.region.name, http: configuration.http.counters)
        self.metrics = metrics
        http = configuration.http
        consumer.onHandlerDuration = { [shard = metrics.handlerDuration.shard(0)] in shard.record(seconds: $0) }
        let region = configuration.region
        let postgres = PostgresURLRedaction.redacted(configuration.postgresURL)
        adminEndpoints = AdminEndpoints(
            metrics: metrics.service,
            beforeScrape: { metrics.publish(consumer.statistics, inFlight: consumer.inFlight, pool: pool.statistics) },
            readiness: {
                var report = ReadinessReport()
                if !consumer.isConnected {
                    // As the gateway says it: the latest error, "connecting" before the first.
                    let error = consumer.lastError ?? "connecting"
                    report.add(.redis, [.init(name: region.name, address: region.redis.description, error: error)])
                }
                if !pool.isHealthy {
                    let error = pool.lastError ?? "Postgres is not reachable"
                    report.add(.postgres, [.init(name: connection.applicationName, address: postgres, error: error)])
                }
                return report
            })
        publishTimer = LoopTimer(loop: loop) { [unowned self] in
            metrics.publish(consumer.statistics, inFlight: consumer.inFlight, pool: pool.statistics)
            publishTimer?.schedule(after: .seconds(1))
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

    /// Serves the admin endpoints (`/healthz`, `/readyz`, `/metrics`) on `address`.
    func bind(_ address: ListenAddress) throws(BindError) -> Int {
        let router = ServiceRouter<AdminOnlyRoute, Void>(admin: adminEndpoints)
        let server = HTTPServer(loop: loop, configuration: http) { [adminEndpoints] request, responder in
            switch router.route(request) {
            case .admin(let route): responder.send(adminEndpoints.response(for: route))
            case .unmatched(let response): responder.send(response)
            }
        }
        admin = server
        return try server.bind(address)
    }

    func start() {
        pool.start()
        consumer.start()
        publishTimer?.schedule(after: .seconds(1))
    }

    func drain(then done: @escaping () -> Void) {
        admin?.stopAccepting()
        consumer.stop(then: done)
    }

    func close() {
        publishTimer?.cancel()
        consumer.close()
        pool.close()
        admin?.close()
    }
}

/// A service with no routes of its own: only the admin endpoints.
enum AdminOnlyRoute: ServiceRoute {
    var isOpen: Bool { true }
}
