import Yams

/// How BiomeBus writes YAML (region files, Kubernetes manifests): trees of `Yams.Node`
/// serialized by Yams, which does escaping, indentation and block chomping. This type only
/// picks each string's scalar style, so that every reader — Yams, and the YAML 1.1 readers
/// of Kubernetes tooling (go-yaml) — reads the string back as the same string.
package enum YAMLEmission {
    /// Words a YAML 1.1 reader takes as a bool or null even where YAML 1.2 sees a string.
    private static let yaml11Words: Set<String> = ["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"]

    /// Tags of scalars that are written as is (plain), not as strings.
    private static let typedTags: Set<String> = Set([Tag.Name.int, .float, .bool, .null].map(\.rawValue))

    /// `text` as a string scalar: multi-line text as a literal block (`|`); plain when every
    /// reader takes it as this string; else double-quoted.
    package static func scalar(_ text: String) -> Node {
        Node(text, Tag(.str), style(forString: text))
    }

    /// A number or bool written as is (`String(value)`), plain.
    package static func plain(_ value: some LosslessStringConvertible, _ tag: Tag.Name) -> Node {
        Node(String(describing: value), Tag(tag), .plain)
    }

    static func style(forString text: String) -> Node.Scalar.Style {
        if text.contains("\n") { return .literal }
        let resolved = Resolver.default.resolveTag(of: Node(text))
        guard resolved == .str, !yaml11Words.contains(text.lowercased()) else { return .doubleQuoted }
        return .plain
    }

    /// One YAML document for `node`, ending in a newline. Strings whose style is not chosen
    /// yet (`Node` string literals) get `scalar(_:)`'s; numbers and bools are written plain.
    package static func document(_ node: Node) -> String {
        do {
            return try Yams.serialize(node: styled(node), width: -1, allowUnicode: true, sortKeys: false)
        } catch {
            // The emitter fails only on malformed event streams; a tree built in code always
            // makes a well-formed one.
            preconditionFailure("Yams refused a YAML tree built in code: \(error)")
        }
    }

    /// `node` with a style for every scalar that has none yet.
    static func styled(_ node: Node) -> Node {
        switch node {
        case .scalar(let scalar) where scalar.style == .any:
            return typedTags.contains(scalar.tag.description)
                ? Node(scalar.string, scalar.tag, .plain) : self.scalar(scalar.string)
        case .scalar, .alias:
            return node
        case .mapping(let mapping):
            return .mapping(.init(mapping.map { (styled($0.key), styled($0.value)) }, mapping.tag, mapping.style))
        case .sequence(let sequence):
            return .sequence(.init(sequence.map(styled), sequence.tag, sequence.style))
        }
    }
}
