import BusRedis

/// One stream entry as Redis returns it: `[id, [field, value, …]]`.
package struct StreamEntry: Sendable, Equatable {
    package let id: String
    /// The entry's fields; nil when the entry was deleted (trimmed) while its id stayed in a
    /// group's pending list (XCLAIM, XAUTOCLAIM and XREADGROUP of pending ids answer `[id, nil]`).
    package let fields: [String: String]?

    package init(id: String, fields: [String: String]?) {
        self.id = id
        self.fields = fields
    }

    /// Decodes `[id, [field, value, …]]` or `[id, nil]`; nil for any other shape.
    package init?(reply: RedisReply) {
        guard let parts = reply.array, parts.count == 2, let id = parts[0].string else { return nil }
        self.id = id
        fields = parts[1].array == nil ? nil : parts[1].fieldMap.compactMapValues(\.string)
    }

    /// A list of entries (XRANGE, XCLAIM, a stream of XREADGROUP); rows of another shape are skipped.
    package static func list(_ reply: RedisReply) throws(RedisError) -> [StreamEntry] {
        if reply == .null { return [] }
        guard let rows = reply.array else { throw .unexpectedReply("expected a list of stream entries") }
        return rows.compactMap(StreamEntry.init(reply:))
    }
}
