import BusRegions
import Yams

/// Short builders for manifests: keys keep their order, strings get `YAMLEmission`'s style.
extension Node {
    static func map(_ pairs: [(String, Node)]) -> Node {
        .mapping(.init(pairs.map { (YAMLEmission.scalar($0.0), $0.1) }))
    }

    static func list(_ items: [Node]) -> Node {
        .sequence(.init(items))
    }

    static func string(_ text: String) -> Node {
        YAMLEmission.scalar(text)
    }

    static func int(_ value: Int) -> Node {
        YAMLEmission.plain(value, .int)
    }

    static func bool(_ value: Bool) -> Node {
        YAMLEmission.plain(value, .bool)
    }

    /// A file's text (a ConfigMap entry) as a literal block, kept exactly.
    static func text(_ text: String) -> Node {
        Node(text, Tag(.str), .literal)
    }
}
