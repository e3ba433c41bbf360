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
        var path = path
        if let answer = path.withUTF8({ matchPatterns(method, asciiPath: $0, allowed: &allowed) }) { return answer }
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

    /// The pattern routes' answer for an ASCII path, read in place: its segments as byte
    /// ranges, the literals compared as bytes, only the captures made Strings. Nil when the
    /// path is not ASCII (the Character-based match decides then). The Substrings of the
    /// general match cost ~5k instructions per activation (bench/instructions).
    private func matchPatterns(
        _ method: HTTPMethod, asciiPath path: UnsafeBufferPointer<UInt8>, allowed: inout [HTTPMethod]
    ) -> Match? {
        var parts: [Range<Int>] = []
        parts.reserveCapacity(8)
        var start = 0
        for index in 0..<path.count {
            guard path[index] < 0x80 else { return nil }
            if path[index] == UInt8(ascii: "/") {
                if start < index { parts.append(start..<index) }
                start = index + 1
            }
        }
        if start < path.count { parts.append(start..<path.count) }
        for entry in patterns where entry.pattern.matches(path, parts) {
            if entry.method == method || (method == .head && entry.method == .get) {
                guard let parameters = entry.pattern.bind(path, parts) else { continue }
                return .found(entry.index, parameters: parameters)
            }
            if !allowed.contains(entry.method) && entry.pattern.bind(path, parts) != nil {
                allowed.append(entry.method)
            }
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
    /// Each segment's UTF-8 when it is a literal, nil for a parameter: compared with an ASCII
    /// path's bytes.
    private let literalBytes: [[UInt8]?]

    /// Parses `/v1/treasure/{biome_id}/chests`.
    init(_ pattern: String) {
        segments = pattern.split(separator: "/").map { part in
            part.hasPrefix("{") && part.hasSuffix("}")
                ? .parameter(String(part.dropFirst().dropLast())) : .literal(part)
        }
        literalBytes = segments.map { segment in
            if case .literal(let text) = segment { Array(text.utf8) } else { nil }
        }
    }

    /// True when the pattern captures nothing.
    var isLiteral: Bool { segments.allSatisfy { if case .literal = $0 { true } else { false } } }

    /// A path's non-empty segments, as the patterns are compared with them.
    static func segments(of path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
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

    /// `matches` for an ASCII path's segments, given as byte ranges of `path`.
    func matches(_ path: UnsafeBufferPointer<UInt8>, _ parts: [Range<Int>]) -> Bool {
        guard literalBytes.count == parts.count else { return false }
        for index in parts.indices {
            if let literal = literalBytes[index], !literal.elementsEqual(path[parts[index]]) { return false }
        }
        return true
    }

    /// `bind` for an ASCII path's segments, given as byte ranges of `path`.
    func bind(_ path: UnsafeBufferPointer<UInt8>, _ parts: [Range<Int>]) -> RouteParameters? {
        var parameters = RouteParameters()
        for index in parts.indices {
            guard case .parameter(let name) = segments[index] else { continue }
            let text = String(decoding: UnsafeBufferPointer(rebasing: path[parts[index]]), as: UTF8.self)
            guard let value = PercentEncoding.decode(text) else { return nil }
            parameters.append(name: name, value: value)
        }
        return parameters
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
        // The common case, already normalized, costs one scan and no allocation; a scan of the
        // contiguous bytes, as iterating the UTF8View cost ~30 instructions a byte.
        var text = path
        let clean = text.withUTF8 { bytes in
            guard bytes.last != UInt8(ascii: "/") || bytes.count == 1 else { return false }
            var previousSlash = false
            for byte in bytes {
                let slash = byte == UInt8(ascii: "/")
                if slash && previousSlash { return false }
                previousSlash = slash
            }
            return true
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
