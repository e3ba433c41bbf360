import BusLoop

/// Matches a method and path against route patterns such as `/v1/treasure/{biome_id}/chests`.
///
/// Pure and immutable once built, so one router serves every loop. Literal paths are found by
/// one dictionary lookup; only paths with `{parameters}` are matched segment by segment. The
/// lookup is `@inlinable` so that it is specialized for each service's `Route` type: the
/// generic version looked up type metadata on every request.
package struct Router<Route: Sendable>: Sendable {
    @usableFromInline
    struct Entry: Sendable {
        @usableFromInline let method: HTTPMethod
        @usableFromInline let segments: [Segment]
        @usableFromInline let route: Route
    }

    @usableFromInline
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    /// The outcome of a lookup.
    package enum Match {
        case found(Route, parameters: [String: String])
        /// The path exists with other methods; answer 405 with this `Allow` list.
        case methodNotAllowed(allow: [HTTPMethod])
        case notFound
    }

    /// Routes without parameters, by normalized path.
    @usableFromInline var literals: [String: [(method: HTTPMethod, route: Route)]] = [:]
    /// Routes with parameters, in the order they were added.
    @usableFromInline var patterns: [Entry] = []

    package init() {}

    /// Adds a route; `{name}` in a segment captures that segment, percent-decoded.
    package mutating func add(_ method: HTTPMethod, _ pattern: String, _ route: Route) {
        let segments = pattern.split(separator: "/").map { part -> Segment in
            if part.hasPrefix("{") && part.hasSuffix("}") {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            return .literal(String(part))
        }
        if segments.allSatisfy({ if case .literal = $0 { true } else { false } }) {
            literals[Self.normalized(pattern), default: []].append((method, route))
        } else {
            patterns.append(Entry(method: method, segments: segments, route: route))
        }
    }

    /// Finds the route for `method` and `path` (HEAD falls back to GET routes).
    @inlinable
    package func match(_ method: HTTPMethod, path: String) -> Match {
        var allowed: [HTTPMethod] = []
        if let candidates = literals[Self.normalized(path)] {
            for candidate in candidates {
                if candidate.method == method || (method == .head && candidate.method == .get) {
                    return .found(candidate.route, parameters: [:])
                }
                if !allowed.contains(candidate.method) { allowed.append(candidate.method) }
            }
            return .methodNotAllowed(allow: allowed)
        }
        guard !patterns.isEmpty else { return .notFound }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        for entry in patterns {
            guard let parameters = Self.bind(entry.segments, to: parts) else { continue }
            if entry.method == method || (method == .head && entry.method == .get) {
                return .found(entry.route, parameters: parameters)
            }
            if !allowed.contains(entry.method) { allowed.append(entry.method) }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allow: allowed)
    }

    /// `/v1/spawn/` and `//v1//spawn` become `/v1/spawn`, as segment matching treats them.
    @inlinable
    static func normalized(_ path: String) -> String {
        let utf8 = path.utf8
        // The common case, already normalized, costs one scan and no allocation.
        var previousSlash = false
        var clean = utf8.last != UInt8(ascii: "/") || utf8.count == 1
        for byte in utf8 where clean {
            let slash = byte == UInt8(ascii: "/")
            if slash && previousSlash { clean = false }
            previousSlash = slash
        }
        if clean { return path }
        return "/" + path.split(separator: "/").joined(separator: "/")
    }

    @inlinable
    static func bind(_ segments: [Segment], to parts: [Substring]) -> [String: String]? {
        guard segments.count == parts.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case .literal(let text):
                guard part == text else { return nil }
            case .parameter(let name):
                guard let value = PercentEncoding.decode(part) else { return nil }
                parameters[name] = value
            }
        }
        return parameters
    }
}
