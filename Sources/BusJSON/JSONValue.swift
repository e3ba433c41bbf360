/// A parsed JSON document. Numbers keep their literal text so that callers can tell an
/// integer literal (`53`) from a fractional one (`53.5`, `5.3e1`) and check ranges exactly.
package enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    /// Members in document order; keys are unique (the parser rejects duplicates).
    case object([(key: String, value: JSONValue)])

    package static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.elementsEqual(b) { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    /// The member `key` of an object, if this is an object that has it.
    package subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// A short name of the value's kind, for error messages.
    package var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A JSON number as written.
package struct JSONNumber: Sendable, Equatable {
    /// The literal, e.g. `-12`, `1.5`, `2e10`.
    package let literal: String
    /// True when the literal has neither a fraction nor an exponent.
    package let isIntegerLiteral: Bool

    /// The exact integer value, when the literal is an integer that fits in Int64.
    package var int64: Int64? { isIntegerLiteral ? Int64(literal) : nil }

    /// The nearest Double; may be infinite for literals such as `1e400`.
    package var double: Double { Double(literal) ?? .nan }

    /// Whether the value is a finite Double. A literal without an exponent is, up to 308
    /// digits, so the common case is answered without parsing it.
    package var isFinite: Bool {
        var literal = literal
        let plain = literal.withUTF8 { text in
            text.count <= 300 && !text.contains(where: { $0 | 0x20 == UInt8(ascii: "e") })
        }
        return plain || double.isFinite
    }
}
