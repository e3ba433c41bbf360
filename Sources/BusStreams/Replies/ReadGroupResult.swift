import BusRedis

/// XREADGROUP's answer: per stream read, the entries delivered.
package struct ReadGroupResult: Sendable, Equatable {
    /// The entries of one stream.
    package struct Batch: Sendable, Equatable {
        package let stream: String
        package let entries: [StreamEntry]

        package init(stream: String, entries: [StreamEntry]) {
            self.stream = stream
            self.entries = entries
        }
    }

    /// Empty when BLOCK timed out (Redis answers null).
    package let batches: [Batch]

    package init(batches: [Batch]) { self.batches = batches }

    /// Decodes `[[stream, [entry, …]], …]` or null.
    package init(reply: RedisReply) throws(RedisError) {
        if reply == .null {
            batches = []
            return
        }
        guard let streams = reply.array else { throw .unexpectedReply("XREADGROUP: expected a list of streams") }
        var batches: [Batch] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2, let name = pair[0].string, let entries = pair[1].array
            else { continue }
            batches.append(Batch(stream: name, entries: entries.compactMap(StreamEntry.init(reply:))))
        }
        self.batches = batches
    }
}
