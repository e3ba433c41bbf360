/// Request or response header fields in arrival order; names compare case-insensitively.
///
/// A parsed request's fields stay as the bytes they arrived as (`ParsedFields`), and a name or
/// value becomes a String only when a handler asks for it: making two Strings of every field
/// of every request, most never read, cost ~2k instructions per request (bench/instructions).
/// Fields added with `add` (responses, tests) are Strings from the start and follow the parsed
/// ones.
package struct HTTPHeaders: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    private var parsed: ParsedFields?
    private var added: [(name: String, value: String)]

    package init(_ fields: [(name: String, value: String)] = []) {
        self.added = fields
    }

    package init(dictionaryLiteral elements: (String, String)...) {
        self.added = elements.map { (name: $0.0, value: $0.1) }
    }

    /// A parsed head's fields.
    init(parsed: ParsedFields) {
        self.parsed = parsed
        self.added = []
    }

    /// Every field as Strings, parsed ones first.
    package var fields: [(name: String, value: String)] {
        guard let parsed else { return added }
        return parsed.allFields + added
    }

    /// The first value of `name`, if present.
    package subscript(name: String) -> String? {
        if let parsed, let index = parsed.firstIndex(of: name) { return parsed.value(at: index) }
        return added.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    /// Every value of `name`, in order (a header may be repeated).
    package func values(_ name: String) -> [String] {
        var values: [String] = []
        if let parsed { parsed.appendValues(of: name, to: &values) }
        for field in added where field.name.caseInsensitiveEquals(name) { values.append(field.value) }
        return values
    }

    /// The first value of `name` as bytes, without making a String (nil when absent).
    func withFirstValue<R>(_ name: String, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        if let parsed, let index = parsed.firstIndex(of: name) { return parsed.withValue(at: index, body) }
        guard var value = added.first(where: { $0.name.caseInsensitiveEquals(name) })?.value else { return body(nil) }
        return value.withUTF8 { body($0) }
    }

    package mutating func add(_ name: String, _ value: String) {
        added.append((name: name, value: value))
    }

    package static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }
}

/// A parsed head's field lines: one copy of their bytes and, per field, where its name and
/// (trimmed) value lie in them. Values are checked by the parser (no control characters).
struct ParsedFields: Sendable {
    private let bytes: [UInt8]
    /// Four offsets into `bytes` per field: name start, name end, value start, value end.
    private let spans: [Int]

    init(bytes: [UInt8], spans: [Int]) {
        self.bytes = bytes
        self.spans = spans
    }

    var count: Int { spans.count / 4 }

    func firstIndex(of name: String) -> Int? {
        var name = name
        return name.withUTF8 { wanted in
            bytes.withUnsafeBufferPointer { bytes in
                for field in 0..<count where matches(field, wanted, in: bytes) { return field }
                return nil
            }
        }
    }

    func appendValues(of name: String, to values: inout [String]) {
        var name = name
        name.withUTF8 { wanted in
            bytes.withUnsafeBufferPointer { bytes in
                for field in 0..<count where matches(field, wanted, in: bytes) {
                    values.append(string(bytes, spans[4 * field + 2], spans[4 * field + 3]))
                }
            }
        }
    }

    func value(at field: Int) -> String {
        bytes.withUnsafeBufferPointer { string($0, spans[4 * field + 2], spans[4 * field + 3]) }
    }

    func withValue<R>(at field: Int, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        bytes.withUnsafeBufferPointer { bytes in
            body(UnsafeBufferPointer(rebasing: bytes[spans[4 * field + 2]..<spans[4 * field + 3]]))
        }
    }

    var allFields: [(name: String, value: String)] {
        bytes.withUnsafeBufferPointer { bytes in
            (0..<count).map { field in
                (
                    name: string(bytes, spans[4 * field], spans[4 * field + 1]),
                    value: string(bytes, spans[4 * field + 2], spans[4 * field + 3])
                )
            }
        }
    }

    private func matches(_ field: Int, _ wanted: UnsafeBufferPointer<UInt8>, in bytes: UnsafeBufferPointer<UInt8>)
        -> Bool
    {
        let start = spans[4 * field]
        // Most names differ in length: answered without reaching the bytes.
        guard spans[4 * field + 1] - start == wanted.count else { return false }
        for index in 0..<wanted.count where asciiLower(bytes[start + index]) != asciiLower(wanted[index]) {
            return false
        }
        return true
    }

    private func string(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }
}

extension String {
    /// ASCII case-insensitive equality, on the UTF-8 bytes (header names are ASCII).
    func caseInsensitiveEquals(_ other: String) -> Bool {
        // Most names differ in length: answered without reaching the bytes.
        guard utf8.count == other.utf8.count else { return false }
        var lhs = self
        var rhs = other
        return lhs.withUTF8 { a in
            rhs.withUTF8 { b in
                guard a.count == b.count else { return false }
                for index in 0..<a.count where asciiLower(a[index]) != asciiLower(b[index]) { return false }
                return true
            }
        }
    }
}

@inline(__always)
func asciiLower(_ byte: UInt8) -> UInt8 {
    (byte >= 65 && byte <= 90) ? byte | 0x20 : byte
}
