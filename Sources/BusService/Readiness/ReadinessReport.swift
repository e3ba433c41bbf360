import BusHTTP
import BusJSON

/// What `/readyz` says, rendered by one function for every service.
///
/// Ready: `200 {"status":"ready"}`. Not ready: `503` with `Retry-After: 1` and
/// `{"error":{"code":"not_ready","message":"<kind> not answering: a, b"},"<kind>":[{"name":…,
/// "<redis|postgres>":<address, password redacted>,"error":…}]}`, one list per kind of
/// dependency that is down (`regions` on the gateway; `redis` and `postgres` on a consumer;
/// `postgres` on activation), in the order they were added.
package struct ReadinessReport: Sendable, Equatable {
    /// A kind of dependency: the list's JSON key, the noun of the message, and the key of each
    /// entry's address.
    package enum Kind: String, Sendable, Equatable {
        /// Region Redis servers (gateway).
        case regions
        /// A Redis server not named by region (a consumer's region Redis).
        case redis
        case postgres

        var addressKey: String {
            switch self {
            case .regions, .redis: "redis"
            case .postgres: "postgres"
            }
        }
    }

    /// One dependency that does not answer.
    package struct Unreachable: Sendable, Equatable {
        package var name: String
        /// Where it is, without secrets (`RedisAddress.description`, a redacted Postgres URL).
        package var address: String
        /// Its latest error.
        package var error: String

        package init(name: String, address: String, error: String) {
            self.name = name
            self.address = address
            self.error = error
        }
    }

    private var groups: [(kind: Kind, members: [Unreachable])] = []

    /// Every dependency answers.
    package static let ready = ReadinessReport()

    package init() {}

    /// Adds the dependencies of `kind` that do not answer; an empty list changes nothing.
    package mutating func add(_ kind: Kind, _ unreachable: [Unreachable]) {
        guard !unreachable.isEmpty else { return }
        groups.append((kind, unreachable))
    }

    package var isReady: Bool { groups.isEmpty }

    package static func == (lhs: ReadinessReport, rhs: ReadinessReport) -> Bool {
        lhs.groups.elementsEqual(rhs.groups) { $0.kind == $1.kind && $0.members == $1.members }
    }

    /// The `/readyz` answer.
    package var response: HTTPResponse {
        guard !isReady else { return .json(200, #"{"status":"ready"}"#) }
        var body = JSONWriter()
        body.beginObject()
        body.key("error")
        body.beginObject()
        body.field("code", "not_ready")
        body.field("message", message)
        body.endObject()
        for group in groups {
            body.key(group.kind.rawValue)
            body.beginArray()
            for member in group.members {
                body.beginObject()
                body.field("name", member.name)
                body.field(group.kind.addressKey, member.address)
                body.field("error", member.error)
                body.endObject()
            }
            body.endArray()
        }
        body.endObject()
        return .json(503, bytes: body.bytes, headers: ["Retry-After": "1"])
    }

    /// The 503's message: `regions not answering: north, south`; kinds joined by `; `.
    package var message: String {
        groups.map { "\($0.kind.rawValue) not answering: " + $0.members.map(\.name).joined(separator: ", ") }
            .joined(separator: "; ")
    }
}
