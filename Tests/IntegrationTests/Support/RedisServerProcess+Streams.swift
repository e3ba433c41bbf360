import BusTesting

/// Stream reads through redis-cli, for checks that must not share the code under test.
extension RedisServerProcess {
    /// XLEN of `key`.
    func streamLength(_ key: String) throws -> Int {
        Int(try cli("XLEN", key)) ?? -1
    }

    /// Every entry of a stream as (id, fields).
    func entries(_ key: String) throws -> [(id: String, fields: [String: String])] {
        let lines = try cli("XRANGE", key, "-", "+").split(separator: "\n", omittingEmptySubsequences: false).map(
            String.init)
        // --raw prints: id, then field/value lines; ids look like "<ms>-<seq>".
        var result: [(id: String, fields: [String: String])] = []
        var index = 0
        while index < lines.count {
            let id = lines[index]
            index += 1
            var fields: [String: String] = [:]
            while index + 1 < lines.count, !Self.isEntryID(lines[index]) {
                fields[lines[index]] = lines[index + 1]
                index += 2
            }
            if !id.isEmpty { result.append((id, fields)) }
        }
        return result
    }

    private static func isEntryID(_ line: String) -> Bool {
        let parts = line.split(separator: "-")
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }

    /// The group's pending count, for one consumer or for all.
    func pending(_ stream: String, group: String = "treasure", consumer: String? = nil) throws -> Int {
        if let consumer {
            let lines = try cli("XPENDING", stream, group, "-", "+", "10000", consumer).split(separator: "\n")
            return lines.count / 4
        }
        return Int(try cli("XPENDING", stream, group).split(separator: "\n").first ?? "0") ?? 0
    }
}
