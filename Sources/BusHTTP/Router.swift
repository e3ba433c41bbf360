/// Matches a method and path against route patterns such as `/v1/treasure/{biome_id}/chests`.
///
/// Pure and immutable once built, so one router serves every loop.
public struct Router<Route: Sendable>: Sendable {
    private struct Entry: Sendable {
        let method: HTTPMethod
        let segments: [Segment]
        let route: Route
    }

    private enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    /// The outcome of a lookup.
    public enum Match {
        case found(Route, parameters: [String: String])
        /// The path exists with other methods; answer 405 with this `Allow` list.
        case methodNotAllowed(allow: [HTTPMethod])
        case notFound
    }

    private var entries: [Entry] = []

    public init() {}

    /// Adds a route; `{name}` in a segment captures that segment, percent-decoded.
    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ route: Route) {
        let segments = pattern.split(separator: "/").map { part -> Segment in
            if part.hasPrefix("{") && part.hasSuffix("}") {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            return .literal(String(part))
        }
        entries.append(Entry(method: method, segments: segments, route: route))
    }

    /// Finds the route for `method` and `path` (HEAD falls back to GET routes).
    public func match(_ method: HTTPMethod, path: String) -> Match {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        var allowed: [HTTPMethod] = []
        for entry in entries {
            guard let parameters = Self.bind(entry.segments, to: parts) else { continue }
            if entry.method == method || (method == .head && entry.method == .get) {
                return .found(entry.route, parameters: parameters)
            }
            if !allowed.contains(entry.method) { allowed.append(entry.method) }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allow: allowed)
    }

    private static func bind(_ segments: [Segment], to parts: [Substring]) -> [String: String]? {
        guard segments.count == parts.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case .literal(let text):
                guard part == text else { return nil }
            case .parameter(let name):
                guard let value = PercentDecoding.decode(part) else { return nil }
                parameters[name] = value
            }
        }
        return parameters
    }
}
