import BusRedis

/// One row of XINFO GROUPS (a flat field/value array per group).
package struct GroupInfo: Sendable, Equatable {
    package let name: String
    package let consumers: Int
    package let pending: Int
    /// Entries not yet delivered to the group; nil when Redis cannot tell (after deletions).
    package let lag: Int?

    package init(name: String, consumers: Int, pending: Int, lag: Int?) {
        self.name = name
        self.consumers = consumers
        self.pending = pending
        self.lag = lag
    }

    /// The groups of one stream; rows without a name are skipped.
    package static func list(_ reply: RedisReply) throws(RedisError) -> [GroupInfo] {
        guard let rows = reply.array else { throw .unexpectedReply("XINFO GROUPS: expected a list of groups") }
        return rows.compactMap { row in
            let fields = row.fieldMap
            guard let name = fields["name"]?.string else { return nil }
            let lag: Int? = fields["lag"].flatMap { $0 == .null ? nil : $0.integer.map(Int.init) }
            return GroupInfo(
                name: name, consumers: Int(fields["consumers"]?.integer ?? 0),
                pending: Int(fields["pending"]?.integer ?? 0), lag: lag)
        }
    }
}

/// The figures of `INFO memory` a region's sample reports.
package struct MemoryInfo: Sendable, Equatable {
    package let usedMemory: Int64?
    /// 0 when no limit is set.
    package let maxMemory: Int64?

    package init(usedMemory: Int64?, maxMemory: Int64?) {
        self.usedMemory = usedMemory
        self.maxMemory = maxMemory
    }

    /// Reads the `key:value` lines of an INFO text (CRLF line ends, `#` section headers).
    package init(text: String) {
        let values = Self.values(text)
        usedMemory = values["used_memory"].flatMap { Int64($0) }
        maxMemory = values["maxmemory"].flatMap { Int64($0) }
    }

    /// INFO text: `key:value` lines.
    static func values(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            values[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return values
    }
}
