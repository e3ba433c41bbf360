import BusRedis

/// XREADGROUP's answer: per stream read, the entries delivered.
public struct ReadGroupResult: Sendable, Equatable {
    /// The entries of one stream.
    public struct Batch: Sendable, Equatable {
        public let stream: String
        public let entries: [StreamEntry]

        public init(stream: String, entries: [StreamEntry]) {
            self.stream = stream
            self.entries = entries
        }
    }

    /// Empty when BLOCK timed out (Redis answers null).
    public let batches: [Batch]

    public init(batches: [Batch]) { self.batches = batches }

    /// Decodes `[[stream, [entry, …]], …]` or null.
    public init(reply: RedisReply) throws(RedisError) {
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
