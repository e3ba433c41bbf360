import BusAuth
import BusChests
import BusDomain
import BusHTTP
import BusLoop
import BusPostgres
import BusRedis
import BusRegions
import BusService
import Logging

/// The activation service's own routes (the admin endpoints are the chassis'); the raw value
/// is the `route` label of its request metrics.
enum ActivationRoute: String, ServiceRoute {
    case chest, list, activate
    case activateAlias = "activate_alias"
    case receiptKeys = "receipt_jwks"

    /// Every chest route is closed (with `players` configured, each needs a player JWT); the
    /// receipts' public key is open, like `/healthz`.
    var isOpen: Bool { self == .receiptKeys }
}

/// One loop's share of the activation service: an HTTP listener and a Postgres pool holding
/// this loop's share of the process's connections.
final class ActivationWorker: ServiceWorker {
    let loop: EventLoop
    private let index: Int
    private let logger: Logger
    private let router: ServiceRouter<ActivationRoute, PlayerIdentity>
    private let admin: AdminEndpoints
    private let pool: PostgresPool
    private let store: ChestStore
    private var server: HTTPServer!
    private let health: ReadinessSignal
    private var metricsTimer: LoopTimer?
    private let metrics: ActivationMetrics
    private let meter: RequestMeter
    private let receipts: ReceiptSigner?
    /// The per-player bucket and this loop's connection to its Redis; nil: unlimited.
    private let limiter: (ActivationLimiter, RedisConnection)?

    init(
        index: Int, loop: EventLoop, configuration: ActivationService.Configuration, connections: Int,
        health: ReadinessSignal, metrics: ActivationMetrics, logger: Logger
    ) {
        self.loop = loop
        self.index = index
        self.logger = logger
        self.health = health
        self.metrics = metrics
        self.meter = metrics.requests.meter(loop: index, in: metrics.service)
        self.receipts = configuration.receipts
        if let limit = configuration.players?.activationLimit, let address = configuration.limiterRedis {
            let redis = address.connectionConfiguration(
                commandTimeout: configuration.limiterTimeout, connectTimeout: configuration.limiterTimeout)
            limiter = (ActivationLimiter(limit: limit), RedisConnection(loop: loop, configuration: redis))
        } else {
            limiter = nil
        }

        var connection = PostgresConfiguration(url: configuration.postgresURL)
        connection.applicationName = "biomebus-activation"
        connection.queryTimeout = configuration.queryTimeout
        connection.serverTimeouts = configuration.serverTimeouts
        connection.pipelineDepth = configuration.pipelineDepth
        var poolConfiguration = PostgresPoolConfiguration(connection: connection, maxConnections: connections)
        poolConfiguration.maxWaiters = configuration.maxWaitersPerLoop
        poolConfiguration.leaseTimeout = configuration.acquireTimeout
        // One connection kept open, so that /readyz reflects whether Postgres answers even
        // while no request has needed it.
        poolConfiguration.minConnections = 1
        let pool = PostgresPool(loop: loop, configuration: poolConfiguration)
        self.pool = pool
        store = ChestStore(pool: pool, preparedStatements: configuration.preparedStatements)

        let address = PostgresURLRedaction.redacted(configuration.postgresURL)
        admin = AdminEndpoints(metrics: metrics.service, openAPIDocument: ActivationService.openAPIDocument) {
            var report = ReadinessReport()
            if !health.isReady {
                report.add(
                    .postgres,
                    [
                        .init(
                            name: connection.applicationName, address: address,
                            error: pool.lastError ?? "Postgres is not reachable")
                    ])
            }
            return report
        }
        let admit = configuration.players.map { policy in
            let authenticator = PlayerAuthenticator(policy: policy)
            return { [metrics] (request: HTTPRequest, _: ActivationRoute) -> Result<PlayerIdentity, APIError> in
                authenticator.verify(
                    authorization: request.headers["Authorization"], now: Double(Clocks.unixMilliseconds()) / 1000
                )
                .mapError { refusal in
                    metrics.refused(refusal)
                    return APIError(refusal)
                }
            }
        }
        var router = ServiceRouter<ActivationRoute, PlayerIdentity>(admin: admin, admit: admit)
        router.add(.get, "/v1/receipts/jwks.json", .receiptKeys)
        router.add(.get, "/v1/treasure/{biome_id}/chests/{chest_id}", .chest)
        router.add(.get, "/v1/treasure/{biome_id}/chests", .list)
        router.add(.post, "/v1/treasure/{biome_id}/chests/{chest_id}/activate", .activate)
        router.add(.post, "/treasure/{biome_id}/activate", .activateAlias)
        self.router = router

        server = HTTPServer(loop: loop, configuration: configuration.http) { [unowned self] request, responder in
            self.handle(request, responder)
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
    }

    func bind(_ address: ListenAddress) throws(BindError) -> Int {
        try server.bind(address)
    }

    func start() {
        pool.start()
        limiter?.1.start()
        metricsTimer?.schedule(after: .zero)
    }

    func drain(then done: @escaping () -> Void) {
        server.stopAccepting()
        server.whenDrained(done)
    }

    func close() {
        metricsTimer?.cancel()
        server.close()
        pool.close()
        limiter?.1.close()
        // Breaks pool → readiness signal → recovery hook → pool.
        pool.onOutcome = nil
    }

    // MARK: - Requests

    private func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        var answer = MeteredResponder(responder, meter: meter, label: "unknown", started: Clocks.monotonicNanoseconds())
        switch router.route(request) {
        case .service(let route, let parameters, let player):
            answer.label = route.rawValue
            switch route {
            case .chest:
                chest(parameters, answer)
            case .list:
                list(parameters, query: request.queryParameters, answer)
            case .activate:
                activate(
                    request, biome: parameters["biome_id"] ?? "", chestID: parameters["chest_id"], player: player,
                    answer)
            case .activateAlias:
                activate(request, biome: parameters["biome_id"] ?? "", chestID: nil, player: player, answer)
            case .receiptKeys:
                // Without receipts, an empty key set: nothing this service says can verify.
                answer.send(.json(200, bytes: receipts?.jwksDocument ?? Array(#"{"keys":[]}"#.utf8)))
            }
        case .admin(let route):
            answer.label = route.rawValue
            answer.send(admin.response(for: route))
        case .refused(let route, let response):
            answer.label = route.rawValue
            answer.send(response)
        case .unmatched(let response):
            answer.send(response)
        }
    }

    private func chest(_ parameters: RouteParameters, _ responder: MeteredResponder) {
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

    private func list(_ parameters: RouteParameters, query: [String: String], _ responder: MeteredResponder) {
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

    /// An activation by `player` (nil: the service runs open): the body's `player_id` must be
    /// the token's subject, who is `activated_by`; the player's bucket is checked before
    /// Postgres is touched.
    private func activate(
        _ request: HTTPRequest, biome: String, chestID: String?, player: PlayerIdentity?,
        _ responder: MeteredResponder
    ) {
        let validated = ActivationRequest.validate(
            biomeID: biome, chestID: chestID, ifMatch: request.headers.values("If-Match"), body: request.body,
            chestIDInBody: chestID == nil)
        var activation: ActivationRequest
        switch validated {
        case .success(let value): activation = value
        case .failure(let error): return responder.send(HTTPResponse(error))
        }
        guard let player else { return store(activation, responder) }
        if case .failure(let refusal) = PlayerAuthenticator.checkBody(playerID: activation.playerID, against: player) {
            metrics.refused(refusal)
            return responder.send(HTTPResponse(APIError(refusal)))
        }
        activation.playerID = player.subject
        guard let (limiter, redis) = limiter else { return store(activation, responder) }
        limiter.check(player: player.subject, on: redis) { [self] decision in
            switch decision {
            case .success: store(activation, responder)
            case .failure(let refusal):
                metrics.refused(refusal)
                responder.send(HTTPResponse(APIError(refusal)))
            }
        }
    }

    private func store(_ activation: ActivationRequest, _ responder: MeteredResponder) {
        store.activate(activation) { [logger, receipts] result in
            switch result {
            case .success(.activated(let chest)):
                var body = chest.jsonBytes
                if let receipts {
                    let receipt = receipts.sign(
                        player: chest.activatedBy ?? "", biomeID: Int64(chest.biome.value), chestID: chest.chestID,
                        version: chest.version, issuedAt: Clocks.unixMilliseconds() / 1000)
                    body = Chest.appendingMember("receipt", receipt, to: body)
                }
                // The fields `.json(_:bytes:headers:)` would give, built at their final size.
                let headers = HTTPHeaders([
                    (name: "ETag", value: chest.entityTag.description),
                    (name: "Content-Type", value: "application/json"),
                ])
                responder.send(HTTPResponse(status: 200, headers: headers, body: body))
            case .success(let outcome):
                responder.send(HTTPResponse(outcome.error!))
            case .failure(let error):
                responder.send(HTTPResponse(.statementFailed(error, logger: logger)))
            }
        }
    }
}
