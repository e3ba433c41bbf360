import BusAuth
import BusDomain
import BusHTTP
import BusLoop
import BusOps
import BusRedis
import BusRegions
import BusService
import BusStreams
import Logging

/// The gateway's own routes (the admin endpoints are the chassis').
enum GatewayRoute: ServiceRoute {
    case spawn, spawnBatch, regions

    /// `/v1/regions` is an operator view, open like `/metrics` (contract, "Authentication").
    var isOpen: Bool { self == .regions }
}

/// One loop's share of the gateway: an HTTP listener and one Redis connection per distinct
/// region Redis. Everything here runs on `loop`'s thread; nothing is shared with other loops.
final class GatewayWorker: ServiceWorker {
    let loop: EventLoop
    private let catalog: RegionCatalog
    private let logger: Logger
    private let router: ServiceRouter<GatewayRoute, ClientIdentity>
    private let admin: AdminEndpoints
    private var server: HTTPServer!
    /// One connection per distinct Redis address.
    private let connections: [RedisConnection]
    /// Made them; follows the masters of Sentinel regions.
    private let connector: RedisConnector
    /// For each region (by catalog index), the index of its connection in `connections`.
    private let connectionOfRegion: [Int]
    /// For each region (by catalog index), its `WAIT` after appends; nil without durability.
    private let replicaWaits: [ReplicaWait?]
    /// Keyed single spawns of non-durable regions, one script call per region per loop pass.
    private var keyedCalls: KeyedSpawnCalls!
    private var pipeline: SpawnPipeline
    private let control: RegionControl
    private let metrics: GatewayMetrics
    private let readiness: RegionReadiness
    /// Counts and times spawns; nil when request metrics are off.
    private let meter: RequestMeter?
    /// Loop 0 samples every region each second: gauges and the memory guard.
    private var sampler: LoopTimer?
    private let sampleInterval: Duration

    init(
        index: Int, loop: EventLoop, configuration: GatewayService.Configuration, processTag: String,
        readiness: RegionReadiness, control: RegionControl, metrics: GatewayMetrics, logger: Logger
    ) {
        self.loop = loop
        self.metrics = metrics
        self.control = control
        self.readiness = readiness
        self.meter = configuration.requestMetrics ? metrics.spawns.meter(loop: index, in: metrics.service) : nil
        self.sampleInterval = configuration.sampleInterval
        self.catalog = configuration.catalog
        self.logger = logger
        self.pipeline = SpawnPipeline(
            catalog: configuration.catalog, control: control,
            chestIDs: ChestIDGenerator(processTag: processTag, worker: index),
            refused: { [metrics] in metrics.service.countAuthRefusal(service: "gateway", reason: $0.metricReason) })
        admin = AdminEndpoints(metrics: metrics.service, openAPIDocument: GatewayService.openAPIDocument) {
            [readiness] in readiness.report()
        }
        let admit = configuration.spawnAuth.map { policy in
            let authenticator = SpawnAuthenticator(policy: policy)
            return { [metrics] (request: HTTPRequest, _: GatewayRoute) -> Result<ClientIdentity, APIError> in
                authenticator.admit(authorization: request.headers["Authorization"]).mapError { refusal in
                    metrics.service.countAuthRefusal(service: "gateway", reason: refusal.metricReason)
                    return APIError(refusal)
                }
            }
        }
        var router = ServiceRouter<GatewayRoute, ClientIdentity>(admin: admin, admit: admit)
        router.add(.post, "/v1/spawn", .spawn)
        router.add(.post, "/v1/spawn/batch", .spawnBatch)
        router.add(.get, "/v1/regions", .regions)
        self.router = router

        let addresses = catalog.redisAddresses
        let connector = RedisConnector(loop: loop)
        self.connector = connector
        connections = addresses.map { address in
            connector.connection(
                to: address, commandTimeout: configuration.redisTimeout, connectTimeout: configuration.redisTimeout,
                maxOutstanding: configuration.maxOutstandingPerConnection)
        }
        connectionOfRegion = catalog.regions.map { region in addresses.firstIndex(of: region.redis)! }
        replicaWaits = catalog.regions.map(ReplicaWait.init)
        keyedCalls = KeyedSpawnCalls(
            loop: loop, regions: catalog.regions, connections: connections, connectionOfRegion: connectionOfRegion)

        readiness.onRecovery(loop: index) {
            [connections = LoopBound(connections, loop: loop), connectionOfRegion] region in
            connections.loop.execute { connections.value[connectionOfRegion[region]].reconnectNow() }
        }
        for (connectionIndex, connection) in connections.enumerated() {
            let regions = connectionOfRegion.indices.filter { connectionOfRegion[$0] == connectionIndex }
            connection.onReadinessChange = { [unowned connection] ready in
                for region in regions {
                    readiness.connection(forRegion: region, loop: index, ready: ready, error: connection.lastError)
                }
            }
        }
        let http = configuration.http.allowingBodies(upTo: SpawnBatch.maxBodySize, on: "/v1/spawn/batch")
        server = HTTPServer(loop: loop, configuration: http) { [unowned self] request, responder in
            self.handle(request, responder)
        }
        if index == 0 {
            sampler = LoopTimer(loop: loop) { [unowned self] in self.sampleRegions() }
        }
    }

    func bind(_ address: ListenAddress) throws(BindError) -> Int {
        try server.bind(address)
    }

    /// Connecting is asynchronous: the first attempt starts here, when the loop runs.
    func start() {
        connector.start()
        for connection in connections { connection.start() }
        sampler?.schedule(after: .zero)
    }

    func drain(then done: @escaping () -> Void) {
        server.stopAccepting()
        server.whenDrained(done)
    }

    func close() {
        sampler?.cancel()
        server.close()
        for connection in connections {
            connection.close()
            // Breaks connection → readiness → recovery hook → connection.
            connection.onReadinessChange = nil
        }
        connector.close()
    }

    // MARK: - Requests

    private func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        switch router.route(request) {
        case .service(.spawn, _, let client):
            spawn(request, client: client, responder)
        case .service(.spawnBatch, _, let client):
            spawnBatch(request, client: client, responder)
        case .service(.regions, _, _):
            RegionSampler.snapshot(catalog, connections: regionConnections, shedding: control.sheddingStates) {
                [control] snapshot in
                let breaches = SnapshotHealth.breaches(snapshot) + control.lagBreaches
                responder.send(.json(200, snapshot.json(breaches: breaches)))
            }
        case .admin(let route):
            responder.send(admin.response(for: route))
        case .refused(.spawn, let response), .refused(.spawnBatch, let response):
            MeteredResponder(responder, meter: meter, label: "none", started: Clocks.monotonicNanoseconds())
                .send(response)
        case .refused(_, let response), .unmatched(let response):
            responder.send(response)
        }
    }

    private func spawn(_ request: HTTPRequest, client: ClientIdentity?, _ responder: HTTPResponder) {
        var answer = MeteredResponder(responder, meter: meter, label: "none", started: Clocks.monotonicNanoseconds())
        switch pipeline.prepare(request, receivedAt: Clocks.unixMilliseconds(), client: client) {
        case .answer(let response, let label):
            answer.label = label
            answer.send(response)
        case .append(let append, let label):
            answer.label = label
            let connection = connections[connectionOfRegion[append.region]]
            if let wait = replicaWaits[append.region] {
                return durableSpawn(append, wait: wait, over: connection, answer)
            }
            switch append.work {
            case .plain(let xadd):
                // The raw send with the decoder called inside: one completion closure per request.
                connection.send(xadd.command) { [self] reply in
                    answer.send(pipeline.answer(append, reply: reply, logger: logger))
                }
            case .keyed(let call, _):
                keyedCalls.add(
                    KeyedSpawnCalls.Waiting(append: append, call: call) { [self] outcome in
                        answer.send(pipeline.answer(append, script: outcome, logger: logger))
                    })
            }
        }
    }

    /// An append followed by its region's `WAIT` (sent before either reply is awaited): the
    /// append's outcome stands only when enough replicas acknowledged it. A keyed append goes
    /// alone in its script call, prepared first, so a NOSCRIPT retry can never land behind the
    /// `WAIT`.
    private func durableSpawn(
        _ append: SpawnPipeline.Append, wait: ReplicaWait, over connection: RedisConnection,
        _ answer: MeteredResponder
    ) {
        var outcome = SpawnPipeline.Outcome.refused(.internalError("no reply to the append"))
        var chestID = append.chestID
        let waitAndAnswer = { [self] in
            // Replies come in command order: the append's completion has run when this one runs.
            wait.send(on: connection) { [self] refusal in
                answer.send(pipeline.answer(append, ReplicaWait.combine(outcome, refusal), chestID: chestID))
            }
        }
        switch append.work {
        case .plain(let xadd):
            connection.send(xadd.command) { [self] reply in
                outcome = pipeline.outcome(append, xadd: xadd, reply: reply, logger: logger)
            }
            waitAndAnswer()
        case .keyed(let call, let key):
            let script = connection.prepare(IdempotentAppendCall.script)
            let single = IdempotentAppendCall(
                region: catalog.regions[append.region], receivedAt: append.receivedAt, appends: [call])
            connection.send(single.command(sha: script.sha)) { [self] reply in
                let decoded = single.decode(reply).map { $0[0] }
                (outcome, chestID) = pipeline.outcome(append, key: key, reply: decoded, logger: logger)
            }
            waitAndAnswer()
        }
    }

    /// A batch: each event is counted as a spawn (its biome and status), timed to the batch's answer.
    private func spawnBatch(_ request: HTTPRequest, client: ClientIdentity?, _ responder: HTTPResponder) {
        let started = Clocks.monotonicNanoseconds()
        switch pipeline.prepareBatch(request, receivedAt: Clocks.unixMilliseconds(), client: client) {
        case .answer(let response):
            MeteredResponder(responder, meter: meter, label: "none", started: started).send(response)
        case .run(let events):
            SpawnBatchRun.start(
                events, pipeline: pipeline, connections: connections, connectionOfRegion: connectionOfRegion,
                replicaWaits: replicaWaits, logger: logger
            ) { [meter] results in
                responder.send(SpawnBatchRun.response(results))
                guard let meter else { return }
                for result in results {
                    let status = if case .refused(let error) = result.outcome { error.status } else { 202 }
                    meter.record(label: result.label, status: status, started: started)
                }
            }
        }
    }

    // MARK: - Sampling (loop 0)

    private var regionConnections: [RedisConnection] { connectionOfRegion.map { connections[$0] } }

    /// Samples every region, moves the memory guard, and publishes gauges.
    private func sampleRegions() {
        RegionSampler.snapshot(catalog, connections: regionConnections, shedding: control.sheddingStates) {
            [self] snapshot in
            let (changes, sample) = control.observe(snapshot, catalog: catalog)
            for change in changes {
                let region = catalog.regions[change.region]
                let ratio = change.ratio.map { "\(Int(($0 * 100).rounded()))%" } ?? "-"
                if change.shedding {
                    logger.warning(
                        "region shedding spawns: Redis memory above high water",
                        metadata: ["region": "\(region.name)", "memory": "\(ratio)"])
                } else {
                    logger.info(
                        "region accepting spawns again", metadata: ["region": "\(region.name)", "memory": "\(ratio)"])
                }
            }
            metrics.publish(sample)
            sampler?.schedule(after: sampleInterval)
        }
    }
}
