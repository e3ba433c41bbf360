import BusRedis

/// Summary XPENDING: `[count, smallest id, greatest id, [[consumer, count], …]]`.
package struct PendingSummary: Sendable, Equatable {
    package let count: Int
    /// The oldest pending id; nil when nothing is pending.
    package let smallestID: String?
    package let greatestID: String?
    /// Pending entries per consumer.
    package let consumers: [String: Int]

    package init(count: Int, smallestID: String?, greatestID: String?, consumers: [String: Int]) {
        self.count = count
        self.smallestID = smallestID
        self.greatestID = greatestID
        self.consumers = consumers
    }

    package init(reply: RedisReply) throws(RedisError) {
        guard let parts = reply.array, parts.count >= 4, let count = parts[0].integer else {
            throw .unexpectedReply("XPENDING: expected [count, smallest, greatest, consumers]")
        }
        self.count = Int(count)
        smallestID = parts[1].string
        greatestID = parts[2].string
        var consumers: [String: Int] = [:]
        for row in parts[3].array ?? [] {
            guard let pair = row.array, pair.count == 2, let name = pair[0].string, let pending = pair[1].integer
            else { continue }
            consumers[name] = Int(pending)
        }
        self.consumers = consumers
    }

    /// The milliseconds part of the oldest pending id (its entry's creation time).
    package var oldestMilliseconds: Int64? {
        smallestID.flatMap { Int64($0.prefix { $0 != "-" }) }
    }
}

/// One row of extended XPENDING: `[id, consumer, idle ms, deliveries]`.
package struct PendingEntry: Sendable, Equatable {
    package let id: String
    package let consumer: String
    package let idleMs: Int64
    /// How often the entry was delivered.
    package let deliveries: Int

    package init(id: String, consumer: String, idleMs: Int64, deliveries: Int) {
        self.id = id
        self.consumer = consumer
        self.idleMs = idleMs
        self.deliveries = deliveries
    }

    /// The rows of an extended XPENDING; rows of another shape are skipped.
    package static func list(_ reply: RedisReply) throws(RedisError) -> [PendingEntry] {
        guard let rows = reply.array else { throw .unexpectedReply("XPENDING: expected a list of pending entries") }
        return rows.compactMap { row in
            guard let fields = row.array, fields.count == 4, let id = fields[0].string,
                let consumer = fields[1].string, let idle = fields[2].integer, let count = fields[3].integer
            else { return nil }
            return PendingEntry(id: id, consumer: consumer, idleMs: idle, deliveries: Int(count))
        }
    }
}
