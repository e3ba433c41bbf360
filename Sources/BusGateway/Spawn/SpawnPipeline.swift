import BusAuth
import BusDomain
import BusHTTP
import BusJSON
import BusRedis
import BusRegions
import BusService
import BusStreams
import Logging

/// The spawn path up to Redis and back, without I/O: content type → decoding → biome to region →
/// shedding → the XADD to send; then the reply → the answer. One per loop (its chest id counter
/// is the loop's own).
struct SpawnPipeline {
    let catalog: RegionCatalog
    let control: RegionControl
    private var chestIDs: ChestIDGenerator
    /// Counts a refusal of a client's region (`biomebus_auth_refusals_total`).
    private let refused: (AuthRefusal) -> Void

    init(
        catalog: RegionCatalog, control: RegionControl, chestIDs: ChestIDGenerator,
        refused: @escaping (AuthRefusal) -> Void = { _ in }
    ) {
        self.catalog = catalog
        self.control = control
        self.chestIDs = chestIDs
        self.refused = refused
    }

    /// A spawn ready to be appended.
    struct Append {
        /// The plain XADD, or an append of the idempotent-append script when the spawn carries a key.
        let work: SpawnAppend
        /// The region's catalog index.
        let region: Int
        let biome: BiomeID
        let stream: String
        let chestID: String
        /// When the request arrived (Unix ms): a keyed call counts its records in this bucket.
        let receivedAt: Int64

        var key: IdempotencyKey? {
            if case .keyed(_, let key) = work { return key }
            return nil
        }
    }

    /// What to do with a request, and its metric label: the biome, `unknown` for a biome of no
    /// region, `none` when the body did not get that far.
    enum Step {
        case answer(HTTPResponse, label: String)
        case append(Append, label: String)
    }

    /// What Redis made of an append.
    enum Outcome: Equatable {
        /// Appended now (`replayed` false), or earlier under the same key (`replayed` true).
        case accepted(id: String, replayed: Bool)
        case refused(APIError)
    }

    /// Checks a `POST /v1/spawn` received at `receivedAt` (Unix ms) from `client` (nil: the
    /// gateway runs open). Its `Idempotency-Key`, if any, is kept under the client's scope.
    mutating func prepare(_ request: HTTPRequest, receivedAt: Int64, client: ClientIdentity? = nil) -> Step {
        guard request.hasJSONContentType else { return .answer(HTTPResponse(.unsupportedMediaType), label: "none") }
        var key: IdempotencyKey?
        // Only a request with the header pays for the `Result` (its generic metadata is looked up
        // at run time across modules).
        if let header = request.headers[IdempotencyKey.headerName] {
            switch IdempotencyKey.fromHeader(header) {
            case .success(let valid): key = valid
            case .failure(let error): return .answer(HTTPResponse(error), label: "none")
            }
        }
        let event: SpawnEvent
        switch SpawnEvent.decode(body: request.body) {
        case .success(let decoded): event = decoded
        case .failure(let error): return .answer(HTTPResponse(error), label: "none")
        }
        let (planned, label) = plan(event, key: key, client: client, receivedAt: receivedAt)
        switch planned {
        case .success(let append): return .append(append, label: label)
        case .failure(let error): return .answer(HTTPResponse(error), label: label)
        }
    }

    /// One valid spawn against the catalog, the client's regions and the memory guard: its
    /// append, or why none, and its metric label.
    mutating func plan(_ event: SpawnEvent, key: IdempotencyKey?, client: ClientIdentity?, receivedAt: Int64) -> (
        Result<Append, APIError>, label: String
    ) {
        guard let regionIndex = catalog.regionIndex(of: event.biome) else {
            return (.failure(.unknownBiome(event.biome)), "unknown")
        }
        let label = String(event.biome.value)
        if let client, case .failure(let refusal) = client.authorize(region: catalog.regions[regionIndex].name) {
            refused(refusal)
            return (.failure(APIError(refusal)), label)
        }
        // Client names are valid scopes by the auth file's rule; without auth every caller shares one.
        let scope = client.flatMap { IdempotencyScope(client: $0.name) } ?? .open
        if control.isShedding(regionIndex) {
            return (
                .failure(
                    .regionOverloaded(
                        catalog.regions[regionIndex].name, reason: "its Redis memory is above the high-water mark")),
                label
            )
        }
        let chestID = event.chestID ?? chestIDs.next()
        let stream = StreamKey.events(event.biome)
        let work = SpawnAppend(
            event: event, stream: stream, chestID: chestID, receivedAt: receivedAt,
            maxlen: catalog.regions[regionIndex].stream.maxlen, key: key, scope: scope, source: client?.name)
        let append = Append(
            work: work, region: regionIndex, biome: event.biome, stream: stream, chestID: chestID,
            receivedAt: receivedAt)
        return (.success(append), label)
    }

    /// What a plain append's XADD reply means.
    func outcome(_ append: Append, xadd: XAdd, reply: Result<RedisReply, RedisError>, logger: Logger) -> Outcome {
        switch xadd.decode(reply) {
        case .success(let id): .accepted(id: id, replayed: false)
        case .failure(let error):
            .refused(Self.apiError(for: error, region: catalog.regions[append.region], logger: logger))
        }
    }

    /// What a keyed append's script answer means. A replay answers the chest id stored with the
    /// key, not the one generated for this request.
    func outcome(
        _ append: Append, key: IdempotencyKey, reply: Result<IdempotentAppend.Outcome, RedisError>, logger: Logger
    ) -> (Outcome, chestID: String) {
        switch reply {
        case .success(.appended(let id, let chestID)): (.accepted(id: id, replayed: false), chestID)
        case .success(.replayed(let id, let chestID)): (.accepted(id: id, replayed: true), chestID)
        case .success(.reused): (.refused(.idempotencyKeyReused(key)), append.chestID)
        case .failure(let error):
            (
                .refused(Self.apiError(for: error, region: catalog.regions[append.region], logger: logger)),
                append.chestID
            )
        }
    }

    /// The answer once Redis replied to `append`'s XADD.
    func answer(_ append: Append, reply: Result<RedisReply, RedisError>, logger: Logger) -> HTTPResponse {
        guard case .plain(let xadd) = append.work else { preconditionFailure("a keyed append answers by script") }
        return answer(append, outcome(append, xadd: xadd, reply: reply, logger: logger), chestID: append.chestID)
    }

    /// The answer once Redis ran `append`'s script: a replay carries `Idempotent-Replayed: true`.
    func answer(_ append: Append, script reply: Result<IdempotentAppend.Outcome, RedisError>, logger: Logger)
        -> HTTPResponse
    {
        guard let key = append.key else { preconditionFailure("a plain append answers by XADD") }
        let (result, chestID) = outcome(append, key: key, reply: reply, logger: logger)
        return answer(append, result, chestID: chestID)
    }

    /// The answer for an outcome (a durable append's, once its `WAIT` replied).
    func answer(_ append: Append, _ outcome: Outcome, chestID: String) -> HTTPResponse {
        switch outcome {
        case .accepted(let id, let replayed):
            var body = JSONWriter()
            Self.writeAccepted(to: &body, biome: append.biome, stream: append.stream, id: id, chestID: chestID)
            return .json(202, bytes: body.bytes, headers: replayed ? ["Idempotent-Replayed": "true"] : [:])
        case .refused(let error):
            return HTTPResponse(error)
        }
    }

    /// The 202 body of a spawn; a batch result is the same object after its `status`.
    static func writeAccepted(
        to body: inout JSONWriter, biome: BiomeID, stream: String, id: String, chestID: String,
        status: Int? = nil, replayed: Bool = false
    ) {
        body.beginObject()
        if let status { body.field(literal: "status", Int64(status)) }
        body.field(literal: "biome_id", Int64(biome.value))
        body.field(literal: "stream", stream)
        body.field(literal: "id", id)
        body.field(literal: "chest_id", chestID)
        if replayed {
            body.key(literal: "replayed")
            body.bool(true)
        }
        body.endObject()
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
        case .server where error.serverCode == .noScript:
            // Only after a SCRIPT FLUSH between a batch's script load and its call: nothing was written.
            return .regionUnavailable(region.name, reason: "its Redis lost the gateway's scripts; retry")
        case .server:
            logger.error("XADD failed", metadata: ["region": "\(region.name)", "error": "\(error.serverText ?? "")"])
            return .internalError("Redis refused the write")
        case .unexpectedReply:
            return .internalError("unexpected XADD reply")
        }
    }
}

extension SpawnPipeline {
    /// One event of a batch, planned: its append or why none, and its metric label.
    struct PlannedEvent {
        var planned: Result<Append, APIError>
        var label: String
    }

    /// What to do with a batch request.
    enum BatchStep {
        /// A bad request as a whole (415, or a bad envelope): nothing is written.
        case answer(HTTPResponse)
        /// Every event, in request order.
        case run([PlannedEvent])
    }

    /// Checks a `POST /v1/spawn/batch` received at `receivedAt` from `client`: the envelope as a
    /// whole, then each event as a single spawn would be (its region allowed to the client, its
    /// `idempotency_key` kept under the client's scope).
    mutating func prepareBatch(_ request: HTTPRequest, receivedAt: Int64, client: ClientIdentity? = nil)
        -> BatchStep
    {
        guard request.hasJSONContentType else { return .answer(HTTPResponse(.unsupportedMediaType)) }
        let batch: SpawnBatch
        switch SpawnBatch.decode(body: request.body) {
        case .success(let decoded): batch = decoded
        case .failure(let error): return .answer(HTTPResponse(error))
        }
        var events: [PlannedEvent] = []
        events.reserveCapacity(batch.items.count)
        for item in batch.items {
            switch item {
            case .success(let valid):
                let (planned, label) = plan(valid.event, key: valid.key, client: client, receivedAt: receivedAt)
                events.append(PlannedEvent(planned: planned, label: label))
            case .failure(let error):
                events.append(PlannedEvent(planned: .failure(error), label: "none"))
            }
        }
        return .run(events)
    }
}
