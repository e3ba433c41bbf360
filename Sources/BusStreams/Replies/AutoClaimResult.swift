import BusRedis

/// XAUTOCLAIM's answer: `[next cursor, [entry, …], [deleted id, …]]` (the third part since Redis 7).
package struct AutoClaimResult: Sendable, Equatable {
    /// Where the next scan continues; `0-0` once the whole pending list was scanned.
    package let cursor: String
    /// Entries claimed; an entry whose fields are nil was deleted meanwhile.
    package let entries: [StreamEntry]
    /// Pending ids whose entry was trimmed: Redis 7 drops them from the pending list and lists them here.
    package let deletedIDs: [String]

    package init(cursor: String, entries: [StreamEntry], deletedIDs: [String]) {
        self.cursor = cursor
        self.entries = entries
        self.deletedIDs = deletedIDs
    }

    package init(reply: RedisReply) throws(RedisError) {
        guard let parts = reply.array, parts.count >= 2, let cursor = parts[0].string else {
            throw .unexpectedReply("XAUTOCLAIM: expected [cursor, entries, deleted]")
        }
        self.cursor = cursor
        entries = (parts[1].array ?? []).compactMap(StreamEntry.init(reply:))
        deletedIDs = parts.count > 2 ? (parts[2].array ?? []).compactMap(\.string) : []
    }
}
