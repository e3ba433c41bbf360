import Yams

/// Strict, typed access to one configuration file's YAML tree. Every mistake is a
/// `ConfigFileError` naming the file, the dotted key and, when a node marks it, the line: an
/// unknown key lists the allowed ones, and a value of the wrong YAML type (`"5000"` for an
/// integer, `12` for a string) is refused rather than converted.
///
/// Keys are passed in full (`stream.durability.replicas`): the reader keeps no position, so one
/// value is shared by every section of a file.
package struct ConfigFileReader: Sendable {
    /// The file's path as given, named in every error.
    package let file: String

    package init(file: String) {
        self.file = file
    }

    /// The root node of `text`; an empty file and YAML that does not parse are errors.
    package func root(of text: String) throws(ConfigFileError) -> Node {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw self.error("", "not valid YAML: \(error)")
        }
        guard let root else { throw error("", "file is empty") }
        return root
    }

    /// An error at `key`; `node` adds its line.
    package func error(_ key: String, _ message: String, _ node: Node? = nil) -> ConfigFileError {
        let location = node?.mark.map { " (line \($0.line))" } ?? ""
        return ConfigFileError(file: file, key: key, message: message + location)
    }

    /// The entries of a mapping by key. A key outside `allowed`, a key given twice and a key
    /// that is not a plain scalar are errors; `key` is the mapping's own (empty: the root).
    package func mapping(_ node: Node, key: String, allowed: Set<String>) throws(ConfigFileError) -> [String: Node] {
        guard case .mapping(let mapping) = node else { throw error(key, "expected a mapping of keys", node) }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else { throw error(key, "keys must be plain strings", keyNode) }
            let name = scalar.string
            let path = key.isEmpty ? name : "\(key).\(name)"
            guard allowed.contains(name) else {
                throw error(path, "unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))", keyNode)
            }
            guard result[name] == nil else { throw error(path, "key appears twice", keyNode) }
            result[name] = value
        }
        return result
    }

    /// A required string: absent is "required key is missing"; only a scalar that resolves
    /// to `!!str` counts (`12`, `true`, `null` do not).
    package func string(_ node: Node?, key: String) throws(ConfigFileError) -> String {
        guard let node else { throw error(key, "required key is missing") }
        guard case .scalar(let scalar) = node, node.hasTag(.str) else { throw error(key, "expected a string", node) }
        return scalar.string
    }

    /// A string, or nil when the key is absent or `null`.
    package func optionalString(_ node: Node?, key: String) throws(ConfigFileError) -> String? {
        guard let node, !node.hasTag(.null) else { return nil }
        return try string(node, key: key)
    }

    /// An integer in `range`, or nil when the key is absent. `checksRange` false: only the type
    /// is checked (a value this process reads but does not use).
    package func int(_ node: Node?, key: String, range: ClosedRange<Int>, checksRange: Bool = true)
        throws(ConfigFileError) -> Int?
    {
        guard let node else { return nil }
        let expected = "expected an integer from \(range.lowerBound) to \(range.upperBound)"
        guard node.hasTag(.int), let value = node.int else { throw error(key, expected, node) }
        guard !checksRange || range.contains(value) else { throw error(key, "\(expected), got \(value)", node) }
        return value
    }

    /// A finite number (an integer literal counts) in `range`, or nil when the key is absent.
    /// `checksRange` as for `int`.
    package func double(_ node: Node?, key: String, range: ClosedRange<Double>, checksRange: Bool = true)
        throws(ConfigFileError) -> Double?
    {
        guard let node else { return nil }
        let expected = "expected a number from \(range.lowerBound) to \(range.upperBound)"
        guard node.hasTag(.float) || node.hasTag(.int), let value = node.float, value.isFinite else {
            throw error(key, expected, node)
        }
        guard !checksRange || range.contains(value) else { throw error(key, "\(expected), got \(value)", node) }
        return value
    }
}

extension Node {
    /// True when the node's resolved tag is `name` (`!!int`, `!!str` …).
    package func hasTag(_ name: Tag.Name) -> Bool {
        tag.description == name.rawValue
    }
}
