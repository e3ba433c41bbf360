import BusDomain
import BusHTTP
import BusLoop
import BusRedis
import BusService
import Logging

/// The routes of the gateway.
enum GatewayRoute: Sendable {
    case spawn, health, ready
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
    private var drainTimer: LoopTimer?

    init(
        index: Int, loop: EventLoop, configuration: GatewayConfiguration, processTag: String,
        readiness: RegionReadiness, logger: Logger
    ) {
        self.loop = loop
        self.catalog = configuration.catalog
        self.logger = logger
        self.chestIDs = ChestIDGenerator(processTag: processTag, worker: index)

        var router = Router<GatewayRoute>()
        router.add(.post, "/v1/spawn", .spawn)
        router.add(.get, "/healthz", .health)
        router.add(.get, "/readyz", .ready)
        self.router = router

        let addresses = catalog.redisAddresses
        connections = addresses.map { address in
            var redis = RedisConnectionConfiguration(
                host: address.host, port: address.port, database: address.database, password: address.password)
            redis.commandTimeout = configuration.redisTimeout
            redis.connectTimeout = configuration.redisTimeout
            redis.maxOutstanding = configuration.maxOutstandingPerConnection
            return RedisConnection(loop: loop, configuration: redis)
        }
        connectionOfRegion = catalog.regions.map { region in addresses.firstIndex(of: region.redis)! }

        for (connectionIndex, connection) in connections.enumerated() {
            let regions = connectionOfRegion.indices.filter { connectionOfRegion[$0] == connectionIndex }
            connection.onReadinessChange = { [unowned connection] ready in
                for region in regions {
                    readiness.connection(forRegion: region, loop: index, ready: ready, error: connection.lastError)
                }
            }
        }
        server = HTTPServer(loop: loop, configuration: .standard) { [unowned self] request, responder in
            self.handle(request, responder)
        }
        // Connecting is asynchronous: the first attempt starts when the loop runs.
        loop.execute { [connections = LoopBound(connections, loop: loop)] in
            for connection in connections.value { connection.start() }
        }
    }

    func bind(_ address: ListenAddress) throws(BindError) -> Int {
        try server.bind(address)
    }

    /// Stops accepting, waits for in-flight requests (at most `timeout`), then closes everything.
    func drain(timeout: Duration, then done: @escaping () -> Void) {
        server.stopAccepting()
        var finished = false
        let finish = { [unowned self] in
            guard !finished else { return }
            finished = true
            self.drainTimer?.cancel()
            self.server.close()
            for connection in self.connections { connection.close() }
            done()
        }
        drainTimer = LoopTimer(loop: loop, handler: finish)
        drainTimer?.schedule(after: timeout)
        server.whenDrained(finish)
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
        case let other:
            responder.send(other.errorResponse(method: request.method, path: request.path)!)
        }
    }

    private func spawn(_ request: HTTPRequest, _ responder: HTTPResponder) {
        let receivedAt = Clocks.unixMilliseconds()
        guard request.hasJSONContentType else {
            responder.send(HTTPResponse(.unsupportedMediaType))
            return
        }
        let event: SpawnEvent
        switch SpawnEvent.decode(body: request.body) {
        case .success(let decoded): event = decoded
        case .failure(let error):
            responder.send(HTTPResponse(error))
            return
        }
        guard let regionIndex = catalog.regionIndex(of: event.biome) else {
            responder.send(HTTPResponse(.unknownBiome(event.biome)))
            return
        }
        let region = catalog.regions[regionIndex]
        let connection = connections[connectionOfRegion[regionIndex]]
        let chestID = event.chestID ?? chestIDs.next()
        let stream = StreamKey.events(event.biome)
        let command = RedisCommand(
            "XADD", .string(stream), "MAXLEN", "~", .integer(Int64(region.stream.maxlen)), "*",
            "type", .string(event.type), "coords", .string(event.coordinatesText),
            "chest_id", .string(chestID), "ts", .integer(receivedAt))
        connection.send(command) { [logger] result in
            switch result {
            case .success(let reply):
                guard let id = reply.string else {
                    responder.send(HTTPResponse(.internalError("unexpected XADD reply")))
                    return
                }
                var body = JSONWriter()
                body.beginObject()
                body.field("biome_id", event.biome.value)
                body.field("stream", stream)
                body.field("id", id)
                body.field("chest_id", chestID)
                body.endObject()
                responder.send(.json(202, body.text))
            case .failure(let error):
                responder.send(HTTPResponse(Self.apiError(for: error, region: region, logger: logger)))
            }
        }
    }

    /// Maps a Redis failure to the contract's 503s (500 for anything unexpected).
    static func apiError(for error: RedisError, region: RegionConfig, logger: Logger) -> APIError {
        switch error {
        case .unavailable:
            .regionUnavailable(region.name, reason: "its Redis is not connected")
        case .timedOut:
            .regionUnavailable(region.name, reason: "its Redis did not answer in time")
        case .disconnected:
            .regionUnavailable(region.name, reason: "the connection to its Redis was lost")
        case .overloaded:
            .regionOverloaded(region.name, reason: "too many writes are waiting for its Redis")
        case .server where error.isOutOfMemory:
            .regionOverloaded(region.name, reason: "its Redis is out of memory")
        case .server(let message):
            {
                logger.error("XADD failed", metadata: ["region": "\(region.name)", "error": "\(message)"])
                return .internalError("Redis refused the write")
            }()
        }
    }

    private func readinessResponse() -> HTTPResponse {
        var down: [(region: RegionConfig, error: String)] = []
        for (index, region) in catalog.regions.enumerated() {
            let connection = connections[connectionOfRegion[index]]
            if !connection.isReady { down.append((region, connection.lastError ?? "connecting")) }
        }
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
