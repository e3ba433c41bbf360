/// A YAML value to write: enough of YAML for Kubernetes manifests, written in block style
/// with strings quoted whenever a plain scalar could be read as something else.
public indirect enum YAMLNode: Sendable, Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    /// Keys keep their order.
    case map([(String, YAMLNode)])
    case list([YAMLNode])
    /// Multi-line text as a literal block scalar (`|`), e.g. a file in a ConfigMap.
    case text(String)

    public static func == (lhs: YAMLNode, rhs: YAMLNode) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)), (.text(let a), .text(let b)): a == b
        case (.int(let a), .int(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.list(let a), .list(let b)): a == b
        case (.map(let a), .map(let b)): a.map(\.0) == b.map(\.0) && a.map(\.1) == b.map(\.1)
        default: false
        }
    }
}

extension YAMLNode: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension YAMLNode {
    /// The node as the body of one YAML document, ending with a newline.
    public var document: String {
        var lines: [String] = []
        YAMLWriter.write(self, indent: 0, into: &lines)
        return lines.joined(separator: "\n") + "\n"
    }
}

enum YAMLWriter {
    static func write(_ node: YAMLNode, indent: Int, into lines: inout [String]) {
        let pad = String(repeating: " ", count: indent)
        switch node {
        case .map(let entries):
            guard !entries.isEmpty else {
                lines.append(pad + "{}")
                return
            }
            for (key, value) in entries {
                let head = pad + scalar(key) + ":"
                switch value {
                case .map(let inner) where !inner.isEmpty:
                    lines.append(head)
                    write(value, indent: indent + 2, into: &lines)
                case .list(let items) where !items.isEmpty:
                    lines.append(head)
                    write(value, indent: indent, into: &lines)
                case .text(let text):
                    lines.append(head + " " + blockHeader(text))
                    appendBlock(text, indent: indent + 2, into: &lines)
                default:
                    lines.append(head + " " + inline(value))
                }
            }
        case .list(let items):
            guard !items.isEmpty else {
                lines.append(pad + "[]")
                return
            }
            for item in items {
                switch item {
                case .map(let inner) where !inner.isEmpty:
                    appendItem(item, pad: pad, indent: indent, into: &lines)
                case .list(let inner) where !inner.isEmpty:
                    appendItem(item, pad: pad, indent: indent, into: &lines)
                case .text(let text):
                    lines.append(pad + "- " + blockHeader(text))
                    appendBlock(text, indent: indent + 2, into: &lines)
                default:
                    lines.append(pad + "- " + inline(item))
                }
            }
        case .text(let text):
            lines.append(pad + blockHeader(text))
            appendBlock(text, indent: indent + 2, into: &lines)
        default:
            lines.append(pad + inline(node))
        }
    }

    /// A collection item: its first line carries the dash, the rest line up under it.
    private static func appendItem(_ item: YAMLNode, pad: String, indent: Int, into lines: inout [String]) {
        var nested: [String] = []
        write(item, indent: indent + 2, into: &nested)
        nested[0] = pad + "- " + nested[0].dropFirst(indent + 2)
        lines.append(contentsOf: nested)
    }

    /// A scalar or an empty collection on one line.
    static func inline(_ node: YAMLNode) -> String {
        switch node {
        case .string(let value): scalar(value)
        case .int(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        case .map: "{}"
        case .list: "[]"
        case .text(let value): quoted(value)
        }
    }

    /// `|` keeps one final newline, `|-` none, `|+` all of them; an indentation indicator when
    /// the text starts with a space (YAML would otherwise take that space as the indentation).
    static func blockHeader(_ text: String) -> String {
        let indicator = text.first == " " || text.first == "\n" ? "2" : ""
        if !text.hasSuffix("\n") { return "|" + indicator + "-" }
        if text.hasSuffix("\n\n") { return "|" + indicator + "+" }
        return "|" + indicator
    }

    static func appendBlock(_ text: String, indent: Int, into lines: inout [String]) {
        let pad = String(repeating: " ", count: indent)
        var body = Substring(text)
        if body.hasSuffix("\n") { body = body.dropLast() }
        for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
            lines.append(line.isEmpty ? "" : pad + line)
        }
    }

    /// Plain when the text cannot be read as anything but this string, else double-quoted.
    static func scalar(_ value: String) -> String {
        isPlainSafe(value) ? value : quoted(value)
    }

    private static let reserved: Set<String> = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
    ]

    static func isPlainSafe(_ value: String) -> Bool {
        guard let first = value.unicodeScalars.first else { return false }
        guard !reserved.contains(value.lowercased()) else { return false }
        // Starting with a letter, `/` or `_` rules out numbers, dates and YAML indicators.
        guard isLetter(first) || first == "/" || first == "_" else { return false }
        for character in value.unicodeScalars {
            guard isLetter(character) || isDigit(character) || "-_./".unicodeScalars.contains(character) else {
                return false
            }
        }
        return true
    }

    private static func isLetter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
    private static func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }

    /// A double-quoted scalar with JSON-compatible escapes.
    static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
