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

    init(catalog: RegionCatalog, control: RegionControl, chestIDs: ChestIDGenerator) {
        self.catalog = catalog
        self.control = control
        self.chestIDs = chestIDs
    }

    /// A spawn ready to be appended.
    struct Append {
        let xadd: XAdd
        /// The region's catalog index.
        let region: Int
        let biome: BiomeID
        let stream: String
        let chestID: String
    }

    /// What to do with a request, and its metric label: the biome, `unknown` for a biome of no
    /// region, `none` when the body did not get that far.
    enum Step {
        case answer(HTTPResponse, label: String)
        case append(Append, label: String)
    }

    /// Checks a `POST /v1/spawn` received at `receivedAt` (Unix ms).
    mutating func prepare(_ request: HTTPRequest, receivedAt: Int64) -> Step {
        guard request.hasJSONContentType else { return .answer(HTTPResponse(.unsupportedMediaType), label: "none") }
        let event: SpawnEvent
        switch SpawnEvent.decode(body: request.body) {
        case .success(let decoded): event = decoded
        case .failure(let error): return .answer(HTTPResponse(error), label: "none")
        }
        guard let regionIndex = catalog.regionIndex(of: event.biome) else {
            return .answer(HTTPResponse(.unknownBiome(event.biome)), label: "unknown")
        }
        let region = catalog.regions[regionIndex]
        let label = String(event.biome.value)
        if control.isShedding(regionIndex) {
            let error = APIError.regionOverloaded(region.name, reason: "its Redis memory is above the high-water mark")
            return .answer(HTTPResponse(error), label: label)
        }
        let chestID = event.chestID ?? chestIDs.next()
        let stream = StreamKey.events(event.biome)
        let xadd = XAdd(stream: stream, approximateMaxLength: region.stream.maxlen, fieldCount: 4) { entry in
            entry.field(SpawnEvent.Field.type, event.type)
            entry.field(SpawnEvent.Field.coordinates, event.coordinatesText)
            entry.field(SpawnEvent.Field.chestID, chestID)
            entry.field(SpawnEvent.Field.receivedAt, receivedAt)
        }
        return .append(
            Append(xadd: xadd, region: regionIndex, biome: event.biome, stream: stream, chestID: chestID),
            label: label)
    }

    /// The answer once Redis replied to `append`'s XADD.
    func answer(_ append: Append, reply: Result<RedisReply, RedisError>, logger: Logger) -> HTTPResponse {
        switch append.xadd.decode(reply) {
        case .success(let id):
            var body = JSONWriter()
            body.beginObject()
            body.field("biome_id", append.biome.value)
            body.field("stream", append.stream)
            body.field("id", id)
            body.field("chest_id", append.chestID)
            body.endObject()
            return .json(202, bytes: body.bytes)
        case .failure(let error):
            return HTTPResponse(Self.apiError(for: error, region: catalog.regions[append.region], logger: logger))
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
}
