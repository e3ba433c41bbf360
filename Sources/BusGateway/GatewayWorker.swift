import BusDomain
import BusHTTP
import BusJSON
import BusLoop
import BusOps
import BusRedis
import BusRegions
import BusService
import BusStreams
import Logging
import Metrics

/// The routes of the gateway.
enum GatewayRoute: Sendable {
    case spawn, health, ready, regions, metrics, openAPI
}

/// One loop's share of the gateway: an HTTP listener and one Redis connection per distinct
/// region Redis. Everything here runs on `loop`'s thread; nothing is shared with other loops.
final class GatewayWorker {
    let loop: EventLoop
    private let catalog: RegionCatalog
    private let logger: Logger
    private let router: Router<GatewayRoute>
    private var server: HTTPServer!
    /// One connection per distinct Redis address.
    private let connections: [RedisConnection]
    /// For each region (by catalog index), the index of its connection in `connections`.
    private let connectionOfRegion: [Int]
    private var chestIDs: ChestIDGenerator
    private let metrics: GatewayMetrics
    private let readiness: RegionReadiness
    private let latency: ShardedHistogram.Shard
    /// Request counters by (biome label, status), created on first use.
    private var requestCounters: [CounterKey: Metrics.Counter] = [:]
    /// Loop 0 samples every region each second: gauges and the memory guard.
    private var sampler: LoopTimer?
    private let sampleInterval: Duration
    private let requestMetrics: Bool

    private struct CounterKey: Hashable {
        let biome: String
        let status: Int
    }

    init(
        index: Int, loop: EventLoop, configuration: GatewayConfiguration, processTag: String,
        readiness: RegionReadiness, metrics: GatewayMetrics, logger: Logger
    ) {
        self.loop = loop
        self.metrics = metrics
        self.readiness = readiness
        self.latency = metrics.spawnDuration.shard(index)
        self.sampleInterval = configuration.sampleInterval
        self.requestMetrics = configuration.requestMetrics
        self.catalog = configuration.catalog
        self.logger = logger
        self.chestIDs = ChestIDGenerator(processTag: processTag, worker: index)

        var router = Router<GatewayRoute>()
        router.add(.post, "/v1/spawn", .spawn)
        router.add(.get, "/healthz", .health)
        router.add(.get, "/readyz", .ready)
        router.add(.get, "/v1/regions", .regions)
        router.add(.get, "/metrics", .metrics)
        router.add(.get, "/openapi.json", .openAPI)
        self.router = router

        let addresses = catalog.redisAddresses
        connections = addresses.map { address in
            let redis = address.connectionConfiguration(
                commandTimeout: configuration.redisTimeout, connectTimeout: configuration.redisTimeout,
                maxOutstanding: configuration.maxOutstandingPerConnection)
            return RedisConnection(loop: loop, configuration: redis)
        }
        connectionOfRegion = catalog.regions.map { region in addresses.firstIndex(of: region.redis)! }

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
        server = HTTPServer(loop: loop, configuration: configuration.http) { [unowned self] request, responder in
            self.handle(request, responder)
        }
        // Connecting is asynchronous: the first attempt starts when the loop runs.
        if index == 0 {
            sampler = LoopTimer(loop: loop) { [unowned self] in self.sampleRegions() }
        }
        loop.execute { [connections = LoopBound(connections, loop: loop), sampler = LoopBound(sampler, loop: loop)] in
            for connection in connections.value { connection.start() }
            sampler.value?.schedule(after: .zero)
        }
    }

    func bind(_ address: ListenAddress) throws(BindError) -> Int {
        try server.bind(address)
    }

    /// Stops accepting, waits for in-flight requests (at most `timeout`), then closes everything.
    func drain(timeout: Duration, then done: @escaping () -> Void) {
        server.stopAccepting()
        loop.completeOnce(within: timeout, server.whenDrained) { [self] in
            sampler?.cancel()
            server.close()
            for connection in connections {
                connection.close()
                // Breaks connection → readiness → recovery hook → connection.
                connection.onReadinessChange = nil
            }
            done()
        }
    }

    // MARK: - Requests

    private func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        switch router.match(request.method, path: request.path) {
        case .found(.spawn, _):
            spawn(request, responder)
        case .found(.health, _):
            responder.send(.json(200, #"{"status":"ok"}"#))
        case .found(.ready, _):
            responder.send(readinessResponse())
        case .found(.regions, _):
            RegionSampler.snapshot(catalog, connections: regionConnections, shedding: sheddingStates) {
                [metrics] snapshot in
                let breaches = SnapshotHealth.breaches(snapshot) + metrics.lagBreaches
                responder.send(.json(200, snapshot.json(breaches: breaches)))
            }
        case .found(.metrics, _):
            responder.send(.prometheus(metrics.service.render()))
        case .found(.openAPI, _):
            responder.send(.json(200, bytes: Gateway.openAPIDocument))
        case let other:
            responder.send(other.errorResponse(method: request.method, path: request.path)!)
        }
    }

    private func spawn(_ request: HTTPRequest, _ responder: HTTPResponder) {
        let started = Clocks.monotonicNanoseconds()
        let receivedAt = Clocks.unixMilliseconds()
        guard request.hasJSONContentType else {
            return answerSpawn(responder, HTTPResponse(.unsupportedMediaType), biome: "none", started: started)
        }
        let event: SpawnEvent
        switch SpawnEvent.decode(body: request.body) {
        case .success(let decoded): event = decoded
        case .failure(let error):
            return answerSpawn(responder, HTTPResponse(error), biome: "none", started: started)
        }
        guard let regionIndex = catalog.regionIndex(of: event.biome) else {
            return answerSpawn(responder, HTTPResponse(.unknownBiome(event.biome)), biome: "unknown", started: started)
        }
        let region = catalog.regions[regionIndex]
        let biomeLabel = String(event.biome.value)
        if metrics.shedding[regionIndex].load(ordering: .relaxed) {
            let error = APIError.regionOverloaded(region.name, reason: "its Redis memory is above the high-water mark")
            return answerSpawn(responder, HTTPResponse(error), biome: biomeLabel, started: started)
        }
        let connection = connections[connectionOfRegion[regionIndex]]
        let chestID = event.chestID ?? chestIDs.next()
        let stream = StreamKey.events(event.biome)
        let xadd = XAdd(stream: stream, approximateMaxLength: region.stream.maxlen, fieldCount: 4) { entry in
            entry.field(SpawnEvent.Field.type, event.type)
            entry.field(SpawnEvent.Field.coordinates, event.coordinatesText)
            entry.field(SpawnEvent.Field.chestID, chestID)
            entry.field(SpawnEvent.Field.receivedAt, receivedAt)
        }
        // The raw send with the decoder called inside: one completion closure per request, as before.
        connection.send(xadd.command) { [self] result in
            switch xadd.decode(result) {
            case .success(let id):
                var body = JSONWriter()
                body.beginObject()
                body.field("biome_id", event.biome.value)
                body.field("stream", stream)
                body.field("id", id)
                body.field("chest_id", chestID)
                body.endObject()
                answerSpawn(responder, .json(202, bytes: body.bytes), biome: biomeLabel, started: started)
            case .failure(let error):
                let answer = HTTPResponse(Self.apiError(for: error, region: region, logger: logger))
                answerSpawn(responder, answer, biome: biomeLabel, started: started)
            }
        }
    }

    /// Sends a spawn's answer and counts it: by biome (bounded by the configured biomes, plus
    /// "unknown" and "none") and status, and its latency.
    private func answerSpawn(_ responder: HTTPResponder, _ response: HTTPResponse, biome: String, started: UInt64) {
        responder.send(response)
        guard requestMetrics else { return }
        let key = CounterKey(biome: biome, status: response.status)
        let counter: Metrics.Counter
        if let cached = requestCounters[key] {
            counter = cached
        } else {
            counter = metrics.spawnRequests(biome: biome, status: response.status)
            requestCounters[key] = counter
        }
        counter.increment()
        latency.record(seconds: Double(Clocks.monotonicNanoseconds() &- started) / 1e9)
    }

    // MARK: - Sampling (loop 0)

    private var regionConnections: [RedisConnection] { connectionOfRegion.map { connections[$0] } }

    private var sheddingStates: [Bool] { metrics.shedding.map { $0.load(ordering: .relaxed) } }

    /// Samples every region, publishes gauges, and moves the memory guard.
    private func sampleRegions() {
        RegionSampler.snapshot(catalog, connections: regionConnections, shedding: sheddingStates) { [self] snapshot in
            for (index, status) in snapshot.regions.enumerated() {
                let region = catalog.regions[index]
                let was = metrics.shedding[index].load(ordering: .relaxed)
                let now = MemoryGuard.shedding(
                    now: was, ratio: status.memoryRatio, highWater: region.stream.memoryHighWater)
                guard now != was else { continue }
                metrics.shedding[index].store(now, ordering: .relaxed)
                let ratio = status.memoryRatio.map { "\(Int(($0 * 100).rounded()))%" } ?? "-"
                if now {
                    logger.warning(
                        "region shedding spawns: Redis memory above high water",
                        metadata: ["region": "\(region.name)", "memory": "\(ratio)"])
                } else {
                    logger.info(
                        "region accepting spawns again", metadata: ["region": "\(region.name)", "memory": "\(ratio)"])
                }
            }
            var published = snapshot
            for index in published.regions.indices {
                published.regions[index].shedding = metrics.shedding[index].load(ordering: .relaxed)
            }
            metrics.publish(published)
            sampler?.schedule(after: sampleInterval)
        }
    }

    /// Maps a Redis failure to the contract's 503s (500 for anything unexpected).
    static func apiError(for error: RedisError, region: RegionConfig, logger: Logger) -> APIError {
        switch error {
        case .unavailable:
            return .regionUnavailable(region.name, reason: "its Redis is not connected")
        case .timedOut:
            return .regionUnavailable(region.name, reason: "its Redis did not answer in time")
        case .disconnected:
            return .regionUnavailable(region.name, reason: "the connection to its Redis was lost")
        case .overloaded:
            return .regionOverloaded(region.name, reason: "too many writes are waiting for its Redis")
        case .server where error.isOutOfMemory:
            return .regionOverloaded(region.name, reason: "its Redis is out of memory")
        case .server:
            logger.error("XADD failed", metadata: ["region": "\(region.name)", "error": "\(error.serverText ?? "")"])
            return .internalError("Redis refused the write")
        case .unexpectedReply:
            return .internalError("unexpected XADD reply")
        }
    }

    private func readinessResponse() -> HTTPResponse {
        let down = readiness.unreachableRegions()
        guard !down.isEmpty else { return .json(200, #"{"status":"ready"}"#) }
        var body = JSONWriter()
        body.beginObject()
        body.key("error")
        body.beginObject()
        body.field("code", "not_ready")
        body.field("message", "regions not answering: " + down.map(\.region.name).joined(separator: ", "))
        body.endObject()
        body.key("regions")
        body.beginArray()
        for entry in down {
            body.beginObject()
            body.field("name", entry.region.name)
            body.field("redis", entry.region.redis.description)
            body.field("error", entry.error)
            body.endObject()
        }
        body.endArray()
        body.endObject()
        return .json(503, body.text, headers: ["Retry-After": "1"])
    }
}
