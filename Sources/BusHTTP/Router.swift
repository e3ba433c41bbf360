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
    /// Bit n set: a literal route's normalized path is n bytes long (bit 63: 63 or more). A path
    /// of another length skips the dictionary, whose hashing of the whole path cost ~1k
    /// instructions per request of a pattern route.
    private var literalLengths: UInt64 = 0
    /// The most segments a pattern has: a path with more matches none.
    private var maxPatternSegments = 0

    package init() {}

    /// Adds the route numbered `index`; `{name}` in a segment captures that segment.
    package mutating func add(_ method: HTTPMethod, _ pattern: String, index: Int) {
        let parsed = RoutePattern(pattern)
        if parsed.isLiteral {
            let path = RoutePattern.normalized(pattern)
            literals[path, default: []].append((method, index))
            literalLengths |= Self.lengthBit(path.utf8.count)
        } else {
            patterns.append(Entry(method: method, pattern: parsed, index: index))
            maxPatternSegments = max(maxPatternSegments, parsed.segments.count)
        }
    }

    /// Finds the route for `method` and `path` (HEAD falls back to GET routes).
    package func match(_ method: HTTPMethod, path: String) -> Match {
        var allowed: [HTTPMethod] = []
        let normalized = RoutePattern.normalized(path)
        if literalLengths & Self.lengthBit(normalized.utf8.count) != 0, let candidates = literals[normalized] {
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

    private static func lengthBit(_ length: Int) -> UInt64 { 1 << UInt64(min(length, 63)) }

    /// The pattern routes' answer for an ASCII path, read in place: its segments as byte
    /// ranges, the literals compared as bytes, only the captures made Strings. Nil when the
    /// path is not ASCII (the Character-based match decides then). The Substrings of the
    /// general match cost ~5k instructions per activation (bench/instructions).
    private func matchPatterns(
        _ method: HTTPMethod, asciiPath path: UnsafeBufferPointer<UInt8>, allowed: inout [HTTPMethod]
    ) -> Match? {
        for index in 0..<path.count where path[index] >= 0x80 { return nil }
        // The segments' ranges on the stack: a path with more segments than any pattern matches
        // none (an array here was one allocation per request).
        return withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: maxPatternSegments + 1) { buffer in
            var count = 0
            var start = 0
            for index in 0..<path.count where path[index] == UInt8(ascii: "/") {
                if start < index {
                    guard count < maxPatternSegments else { return .notFound }
                    buffer.initializeElement(at: count, to: start..<index)
                    count += 1
                }
                start = index + 1
            }
            if start < path.count {
                guard count < maxPatternSegments else { return .notFound }
                buffer.initializeElement(at: count, to: start..<path.count)
                count += 1
            }
            // Ranges are trivial: nothing to deinitialize.
            return matchPatterns(method, path, UnsafeBufferPointer(rebasing: buffer[..<count]), allowed: &allowed)
        }
    }

    private func matchPatterns(
        _ method: HTTPMethod, _ path: UnsafeBufferPointer<UInt8>, _ parts: UnsafeBufferPointer<Range<Int>>,
        allowed: inout [HTTPMethod]
    ) -> Match {
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
        parameterCount = literalBytes.count { $0 == nil }
    }

    /// True when the pattern captures nothing.
    var isLiteral: Bool { parameterCount == 0 }
    /// How many `{name}`s the pattern captures.
    let parameterCount: Int

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
    func matches(_ path: UnsafeBufferPointer<UInt8>, _ parts: UnsafeBufferPointer<Range<Int>>) -> Bool {
        guard literalBytes.count == parts.count else { return false }
        for index in parts.indices {
            if let literal = literalBytes[index], !literal.elementsEqual(path[parts[index]]) { return false }
        }
        return true
    }

    /// `bind` for an ASCII path's segments, given as byte ranges of `path`.
    func bind(_ path: UnsafeBufferPointer<UInt8>, _ parts: UnsafeBufferPointer<Range<Int>>) -> RouteParameters? {
        var parameters = RouteParameters(capacity: parameterCount)
        for index in parts.indices {
            guard case .parameter(let name) = segments[index] else { continue }
            let bytes = UnsafeBufferPointer(rebasing: path[parts[index]])
            let text = String(decoding: bytes, as: UTF8.self)
            // Without a `%` there is nothing to decode (and the path is ASCII).
            if !bytes.contains(UInt8(ascii: "%")) {
                parameters.append(name: name, value: text)
                continue
            }
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
    /// One array of pairs: one allocation per matched route, not one per names and values.
    private var captures: [(name: String, value: String)] = []

    package init() {}

    init(capacity: Int) {
        captures.reserveCapacity(capacity)
    }

    package init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { append(name: name, value: value) }
    }

    mutating func append(name: String, value: String) {
        captures.append((name, value))
    }

    /// The value captured as `{name}`, or nil when the route has no such parameter.
    package subscript(name: String) -> String? {
        for capture in captures where capture.name == name { return capture.value }
        return nil
    }

    package var isEmpty: Bool { captures.isEmpty }

    /// Equal when they capture the same names with the same values, in any order.
    package static func == (lhs: RouteParameters, rhs: RouteParameters) -> Bool {
        lhs.captures.count == rhs.captures.count && lhs.captures.allSatisfy { rhs[$0.name] == $0.value }
    }
}
