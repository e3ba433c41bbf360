import BusChests
import BusDomain
import BusHTTP
import BusLoop
import BusPostgres
import BusService
import Logging
import Metrics

enum ActivationRoute: String, Sendable {
    case chest, list, activate
    case activateAlias = "activate_alias"
    case health, ready, metrics
    case openAPI = "openapi"
}

/// One loop's share of the activation service: an HTTP listener and a Postgres pool holding
/// this loop's share of the process's connections.
final class ActivationWorker {
    let loop: EventLoop
    private let logger: Logger
    private let router: Router<ActivationRoute>
    private let pool: PostgresPool
    private let store: ChestStore
    private var server: HTTPServer!
    private let health: ReadinessSignal
    private var metricsTimer: LoopTimer?
    private let metrics: ActivationMetrics
    private let latency: ShardedHistogram.Shard
    private var counters: [CounterKey: Metrics.Counter] = [:]

    private struct CounterKey: Hashable {
        let route: String
        let status: Int
    }

    init(
        index: Int, loop: EventLoop, configuration: ActivationConfiguration, connections: Int, health: ReadinessSignal,
        metrics: ActivationMetrics, logger: Logger
    ) {
        self.loop = loop
        self.logger = logger
        self.health = health
        self.metrics = metrics
        self.latency = metrics.duration.shard(index)
        var router = Router<ActivationRoute>()
        router.add(.get, "/v1/treasure/{biome_id}/chests/{chest_id}", .chest)
        router.add(.get, "/v1/treasure/{biome_id}/chests", .list)
        router.add(.post, "/v1/treasure/{biome_id}/chests/{chest_id}/activate", .activate)
        router.add(.post, "/treasure/{biome_id}/activate", .activateAlias)
        router.add(.get, "/healthz", .health)
        router.add(.get, "/readyz", .ready)
        router.add(.get, "/metrics", .metrics)
        router.add(.get, "/openapi.json", .openAPI)
        self.router = router

        var connection = PostgresConfiguration(url: configuration.postgresURL)
        connection.applicationName = "biomebus-activation"
        connection.queryTimeout = configuration.queryTimeout
        connection.serverTimeouts = configuration.serverTimeouts
        var poolConfiguration = PostgresPoolConfiguration(connection: connection, maxConnections: connections)
        poolConfiguration.maxWaiters = configuration.maxWaitersPerLoop
        poolConfiguration.leaseTimeout = configuration.acquireTimeout
        // One connection kept open, so that /readyz reflects whether Postgres answers even
        // while no request has needed it.
        poolConfiguration.minConnections = 1
        pool = PostgresPool(loop: loop, configuration: poolConfiguration)
        store = ChestStore(pool: pool, preparedStatements: configuration.preparedStatements)
        server = HTTPServer(loop: loop, configuration: configuration.http) { [unowned self] request, responder in
            self.handle(request, Answer(worker: self, responder: responder))
        }
        // Readiness is published as it happens, before the request concerned is answered:
        // every outcome of this loop's pool replaces the process's latest one.
        pool.onOutcome = { reachable in health.record(reachable, from: index) }
        health.onRecovery(member: index) { [pool = LoopBound(pool, loop: loop)] in
            pool.loop.execute { pool.value.retryFailedConnectionsNow() }
        }
        metricsTimer = LoopTimer(loop: loop) { [unowned self] in
            metrics.publish(loop: index, pool: pool.statistics)
            metricsTimer?.schedule(after: .milliseconds(200))
        }
        loop.execute { [pool = LoopBound(pool, loop: loop), timer = LoopBound(metricsTimer, loop: loop)] in
            pool.value.start()
            timer.value?.schedule(after: .zero)
        }
    }

    func bind(_ address: ListenAddress) throws(BindError) -> Int {
        try server.bind(address)
    }

    func drain(timeout: Duration, then done: @escaping () -> Void) {
        server.stopAccepting()
        loop.completeOnce(within: timeout, server.whenDrained) { [self] in
            metricsTimer?.cancel()
            server.close()
            pool.close()
            // Breaks pool → readiness signal → recovery hook → pool.
            pool.onOutcome = nil
            done()
        }
    }

    // MARK: - Requests

    private func handle(_ request: HTTPRequest, _ responder: Answer) {
        let match = router.match(request.method, path: request.path)
        if case .found(let route, _) = match { responder.route = route.rawValue }
        switch match {
        case .found(.chest, let parameters):
            chest(parameters, responder)
        case .found(.list, let parameters):
            list(parameters, query: request.queryParameters, responder)
        case .found(.activate, let parameters):
            activate(request, biome: parameters["biome_id"] ?? "", chestID: parameters["chest_id"], responder)
        case .found(.activateAlias, let parameters):
            activate(request, biome: parameters["biome_id"] ?? "", chestID: nil, responder)
        case .found(.health, _):
            responder.send(.json(200, #"{"status":"ok"}"#))
        case .found(.metrics, _):
            responder.send(.prometheus(metrics.service.render()))
        case .found(.openAPI, _):
            responder.send(.json(200, bytes: ActivationService.openAPIDocument))
        case .found(.ready, _):
            responder.send(
                health.isReady
                    ? .json(200, #"{"status":"ready"}"#)
                    : HTTPResponse(.databaseUnavailable(pool.lastError ?? "Postgres is not reachable")))
        case let other:
            responder.send(other.errorResponse(method: request.method, path: request.path)!)
        }
    }

    private func chest(_ parameters: [String: String], _ responder: Answer) {
        guard let biome = BiomeID(parameters["biome_id"] ?? "") else {
            return responder.send(HTTPResponse(.badBiomeID))
        }
        guard let chestID = parameters["chest_id"], Identifiers.isValidChestID(chestID) else {
            return responder.send(HTTPResponse(.badChestID))
        }
        store.find(biome: biome, chestID: chestID) { [logger] result in
            switch result {
            case .success(let chest?):
                responder.send(.json(200, bytes: chest.jsonBytes, headers: ["ETag": chest.entityTag.description]))
            case .success(nil):
                responder.send(HTTPResponse(.chestNotFound))
            case .failure(let error):
                responder.send(HTTPResponse(.statementFailed(error, logger: logger)))
            }
        }
    }

    private func list(_ parameters: [String: String], query: [String: String], _ responder: Answer) {
        guard let biome = BiomeID(parameters["biome_id"] ?? "") else {
            return responder.send(HTTPResponse(.badBiomeID))
        }
        let page: ListQuery
        switch ListQuery.parse(query) {
        case .success(let value): page = value
        case .failure(let error): return responder.send(HTTPResponse(error))
        }
        store.list(biome: biome, state: page.state, limit: page.limit) { [logger] result in
            switch result {
            case .success(let chests):
                responder.send(.json(200, bytes: Chest.listJSONBytes(chests)))
            case .failure(let error):
                responder.send(HTTPResponse(.statementFailed(error, logger: logger)))
            }
        }
    }

    private func activate(_ request: HTTPRequest, biome: String, chestID: String?, _ responder: Answer) {
        let validated = ActivationRequest.validate(
            biomeID: biome, chestID: chestID, ifMatch: request.headers.values("If-Match"), body: request.body,
            chestIDInBody: chestID == nil)
        let activation: ActivationRequest
        switch validated {
        case .success(let value): activation = value
        case .failure(let error): return responder.send(HTTPResponse(error))
        }
        store.activate(activation) { [logger] result in
            switch result {
            case .success(.activated(let chest)):
                responder.send(.json(200, bytes: chest.jsonBytes, headers: ["ETag": chest.entityTag.description]))
            case .success(let outcome):
                responder.send(HTTPResponse(outcome.error!))
            case .failure(let error):
                responder.send(HTTPResponse(.statementFailed(error, logger: logger)))
            }
        }
    }
}

/// Wraps the request's responder so that every answer is counted by route and status, and
/// timed, in one place.
final class Answer {
    private unowned let worker: ActivationWorker
    private let responder: HTTPResponder
    private let started = Clocks.monotonicNanoseconds()
    var route = "unknown"

    init(worker: ActivationWorker, responder: HTTPResponder) {
        self.worker = worker
        self.responder = responder
    }

    func send(_ response: HTTPResponse) {
        responder.send(response)
        worker.record(
            route: route, status: response.status, seconds: Double(Clocks.monotonicNanoseconds() &- started) / 1e9)
    }
}

extension ActivationWorker {
    func record(route: String, status: Int, seconds: Double) {
        let key = CounterKey(route: route, status: status)
        let counter: Metrics.Counter
        if let cached = counters[key] {
            counter = cached
        } else {
            counter = metrics.requests(route: route, status: status)
            counters[key] = counter
        }
        counter.increment()
        latency.record(seconds: seconds)
    }
}
