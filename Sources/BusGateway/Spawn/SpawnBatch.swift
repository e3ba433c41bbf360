import BusDomain
import BusJSON
import BusService

/// A `POST /v1/spawn/batch` body, validated in two layers: the envelope as a whole (a bad one
/// is one 400 and nothing is written), then each event on its own, exactly as a single spawn's
/// body, so one bad event fails only itself.
package struct SpawnBatch: Sendable {
    /// How many events one batch may carry.
    package static let eventLimit = 1...1000
    /// The largest batch body (the single-spawn route keeps its 16 KiB).
    package static let maxBodySize = 1024 * 1024

    /// One valid event and its key, if it carries one.
    package struct Item: Sendable, Equatable {
        package var event: SpawnEvent
        package var key: IdempotencyKey?

        package init(event: SpawnEvent, key: IdempotencyKey?) {
            self.event = event
            self.key = key
        }
    }

    /// Each event's validation outcome, in request order.
    package var items: [Result<Item, APIError>]

    /// Validates a batch body: `{"events": [<spawn>, ...]}` with 1 … 1000 events; other members
    /// are ignored, as in a single spawn.
    package static func decode(body: [UInt8]) -> Result<SpawnBatch, APIError> {
        let document: JSONValue
        switch JSONBody.object(from: body) {
        case .success(let object): document = object
        case .failure(let error): return .failure(error)
        }
        guard let events = document["events"] else { return .failure(.missingField("events")) }
        guard case .array(let elements) = events else {
            return .failure(.invalidField("events", "events must be an array of spawns, not \(events.kindName)"))
        }
        guard eventLimit.contains(elements.count) else {
            return .failure(
                .invalidField(
                    "events",
                    "events must hold \(eventLimit.lowerBound) to \(eventLimit.upperBound) spawns, not \(elements.count)"
                ))
        }
        return .success(SpawnBatch(items: elements.map(item)))
    }

    private static func item(_ element: JSONValue) -> Result<Item, APIError> {
        guard case .object = element else {
            return .failure(.malformedJSON("each event must be a JSON object, not \(element.kindName)"))
        }
        let event: SpawnEvent
        switch SpawnEvent.decode(object: element) {
        case .success(let decoded): event = decoded
        case .failure(let error): return .failure(error)
        }
        switch IdempotencyKey.fromEventMember(element["idempotency_key"]) {
        case .success(let key): return .success(Item(event: event, key: key))
        case .failure(let error): return .failure(error)
        }
    }
}
