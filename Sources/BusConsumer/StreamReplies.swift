import BusDomain
import BusRedis

/// Decoding the stream replies a consumer reads.
enum StreamReplies {
    /// One entry: `[id, [field, value, …]]`; fields are nil for an entry deleted meanwhile.
    static func entry(_ reply: RedisReply) -> (id: String, fields: [String: String]?)? {
        guard let parts = reply.array, parts.count == 2, let id = parts[0].string else { return nil }
        guard parts[1].array != nil else { return (id, nil) }
        return (id, parts[1].fieldMap.compactMapValues(\.string))
    }

    /// XREADGROUP: `[[stream, [entry, …]], …]`, or null when BLOCK timed out.
    static func readGroup(_ reply: RedisReply) -> [(stream: String, id: String, fields: [String: String]?)] {
        guard let streams = reply.array else { return [] }
        var result: [(stream: String, id: String, fields: [String: String]?)] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2, let name = pair[0].string, let entries = pair[1].array
            else { continue }
            for raw in entries {
                if let entry = entry(raw) { result.append((name, entry.id, entry.fields)) }
            }
        }
        return result
    }

    /// XAUTOCLAIM: `[next cursor, [entry, …], [deleted id, …]]`.
    static func autoClaim(_ reply: RedisReply) -> (
        cursor: String, entries: [(id: String, fields: [String: String]?)], deleted: Int
    ) {
        guard let parts = reply.array, parts.count >= 2, let cursor = parts[0].string else { return ("0-0", [], 0) }
        let entries = (parts[1].array ?? []).compactMap(entry)
        let deleted = parts.count > 2 ? (parts[2].array?.count ?? 0) : 0
        return (cursor, entries, deleted)
    }

    /// XPENDING (extended form): id → delivery count.
    static func deliveryCounts(_ reply: RedisReply) -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in reply.array ?? [] {
            guard let fields = row.array, fields.count == 4, let id = fields[0].string, let count = fields[3].integer
            else { continue }
            counts[id] = Int(count)
        }
        return counts
    }
}
