import BusLoop

/// Matches a method and path against route patterns such as `/v1/treasure/{biome_id}/chests`.
///
/// Pure and immutable once built, so one router serves every loop. The matching is done by
/// `RouteTable`, which is not generic and answers an index into `routes`: Swift 6.3 does not
/// specialize generic `package` code across modules, so a generic matcher looked up type
/// metadata several times per request (measured with bench/instructions).
package struct Router<Route: Sendable>: Sendable {
    /// The outcome of a lookup.
    package enum Match {
        case found(Route, parameters: RouteParameters)
        /// The path exists with other methods; answer 405 with this `Allow` list.
        case methodNotAllowed(allow: [HTTPMethod])
        case notFound
    }

    private var table = RouteTable()
    private var routes: [Route] = []

    package init() {}

    /// Adds a route; `{name}` in a segment captures that segment, percent-decoded.
    package mutating func add(_ method: HTTPMethod, _ pattern: String, _ route: Route) {
        table.add(method, pattern, index: routes.count)
        routes.append(route)
    }

    /// Finds the route for `method` and `path` (HEAD falls back to GET routes).
    package func match(_ method: HTTPMethod, path: String) -> Match {
        switch table.match(method, path: path) {
        case .found(let index, let parameters): .found(routes[index], parameters: parameters)
        case .methodNotAllowed(let allow): .methodNotAllowed(allow: allow)
        case .notFound: .notFound
        }
    }
}

/// The routes' patterns by method, each naming its route by index: the non-generic core of
/// `Router`. Literal paths are found by one dictionary lookup; only paths with `{parameters}`
/// are matched segment by segment.
package struct RouteTable: Sendable {
    /// The outcome of a lookup.
    package enum Match: Equatable {
        case found(Int, parameters: RouteParameters)
        case methodNotAllowed(allow: [HTTPMethod])
        case notFound
    }

    private struct Entry: Sendable {
        let method: HTTPMethod
        let pattern: RoutePattern
        let index: Int
    }

    /// Routes without parameters, by normalized path.
    private var literals: [String: [(method: HTTPMethod, index: Int)]] = [:]
    /// Routes with parameters, in the order they were added.
    private var patterns: [Entry] = []

    package init() {}

    /// Adds the route numbered `index`; `{name}` in a segment captures that segment.
    package mutating func add(_ method: HTTPMethod, _ pattern: String, index: Int) {
        let parsed = RoutePattern(pattern)
        if parsed.isLiteral {
            literals[RoutePattern.normalized(pattern), default: []].append((method, index))
        } else {
            patterns.append(Entry(method: method, pattern: parsed, index: index))
        }
    }

    /// Finds the route for `method` and `path` (HEAD falls back to GET routes).
    package func match(_ method: HTTPMethod, path: String) -> Match {
        var allowed: [HTTPMethod] = []
        if let candidates = literals[RoutePattern.normalized(path)] {
            for candidate in candidates {
                if candidate.method == method || (method == .head && candidate.method == .get) {
                    return .found(candidate.index, parameters: RouteParameters())
                }
                if !allowed.contains(candidate.method) { allowed.append(candidate.method) }
            }
            return .methodNotAllowed(allow: allowed)
        }
        guard !patterns.isEmpty else { return .notFound }
        let parts = RoutePattern.segments(of: path)
        for entry in patterns where entry.pattern.matches(parts) {
            if entry.method == method || (method == .head && entry.method == .get) {
                // Only the route that answers has its captures decoded.
                guard let parameters = entry.pattern.bind(parts) else { continue }
                return .found(entry.index, parameters: parameters)
            }
            // As for the answering route: a capture that is not valid percent-encoding is no match.
            if !allowed.contains(entry.method) && entry.pattern.bind(parts) != nil { allowed.append(entry.method) }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allow: allowed)
    }
}

/// One route pattern's segments: literals to compare, `{name}`s to capture.
package struct RoutePattern: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(Substring)
        case parameter(String)
    }

    let segments: [Segment]

    /// Parses `/v1/treasure/{biome_id}/chests`.
    init(_ pattern: String) {
        segments = pattern.split(separator: "/").map { part in
            part.hasPrefix("{") && part.hasSuffix("}")
                ? .parameter(String(part.dropFirst().dropLast())) : .literal(part)
        }
    }

    /// True when the pattern captures nothing.
    var isLiteral: Bool { segments.allSatisfy { if case .literal = $0 { true } else { false } } }

    /// A path's non-empty segments, as the patterns are compared with them.
    static func segments(of path: String) -> [Substring] {
        // An ASCII path is cut at its `/` bytes, which is where its characters would split it:
        // the Character split walked grapheme boundaries and cost ~18k instructions for an
        // activation's path (bench/instructions). Other paths keep the Character split, where a
        // combining mark after a `/` joins it.
        let utf8 = path.utf8
        var parts: [Substring] = []
        parts.reserveCapacity(8)
        var start = utf8.startIndex
        var index = start
        while index < utf8.endIndex {
            let byte = utf8[index]
            guard byte < 0x80 else { return path.split(separator: "/", omittingEmptySubsequences: true) }
            if byte == UInt8(ascii: "/") {
                if start < index { parts.append(path[start..<index]) }
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        if start < index { parts.append(path[start..<index]) }
        return parts
    }

    /// Whether `parts` has this pattern's shape: as many segments, the literals equal. Allocates
    /// nothing, so the patterns that do not match cost only comparisons.
    func matches(_ parts: [Substring]) -> Bool {
        guard segments.count == parts.count else { return false }
        for (segment, part) in zip(segments, parts) {
            if case .literal(let text) = segment, part != text { return false }
        }
        return true
    }

    /// The captures of `parts`, which `matches`; nil when one is not valid percent-encoding.
    func bind(_ parts: [Substring]) -> RouteParameters? {
        var parameters = RouteParameters()
        for (segment, part) in zip(segments, parts) {
            guard case .parameter(let name) = segment else { continue }
            guard let value = PercentEncoding.decode(part) else { return nil }
            parameters.append(name: name, value: value)
        }
        return parameters
    }

    /// `/v1/spawn/` and `//v1//spawn` become `/v1/spawn`, as segment matching treats them.
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
}

/// The `{name}` captures of a matched route, in pattern order. A route has a few, so a linear
/// search by name costs less than hashing them into a dictionary.
package struct RouteParameters: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    private var names: [String] = []
    private var values: [String] = []

    package init() {}

    package init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { append(name: name, value: value) }
    }

    mutating func append(name: String, value: String) {
        names.append(name)
        values.append(value)
    }

    /// The value captured as `{name}`, or nil when the route has no such parameter.
    package subscript(name: String) -> String? {
        names.firstIndex(of: name).map { values[$0] }
    }

    package var isEmpty: Bool { names.isEmpty }

    /// Equal when they capture the same names with the same values, in any order.
    package static func == (lhs: RouteParameters, rhs: RouteParameters) -> Bool {
        lhs.names.count == rhs.names.count && zip(lhs.names, lhs.values).allSatisfy { rhs[$0.0] == $0.1 }
    }
}
