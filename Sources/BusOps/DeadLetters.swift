import BusDomain
import BusRedis
import BusStreams

/// One entry of `EVDLQ:<biome>`.
package struct DeadLetter: Sendable, Equatable {
    package let id: String
    /// The original entry's fields.
    package let fields: [String: String]
    package let sourceID: String?
    package let deliveries: Int?
    package let error: String?

    /// The fields the dead-lettering step added on top of the original entry.
    static let bookkeeping: Set<String> = ["source_id", "deliveries", "error"]

    init(id: String, all: [String: String]) {
        self.id = id
        sourceID = all["source_id"]
        deliveries = all["deliveries"].flatMap { Int($0) }
        error = all["error"]
        fields = all.filter { !Self.bookkeeping.contains($0.key) }
    }
}

/// Inspecting and replaying a biome's dead letters.
package enum DeadLetters {
    /// Every dead letter of `biome`, oldest first (or only those in `ids`).
    package static func list(_ biome: BiomeID, ids: [String] = [], over redis: BlockingRedis.Server) throws(RedisError)
        -> [DeadLetter]
    {
        let entries = try redis.send(XRange(stream: StreamKey.deadLetters(biome)))
        let letters = entries.compactMap { entry in entry.fields.map { DeadLetter(id: entry.id, all: $0) } }
        return ids.isEmpty ? letters : letters.filter { ids.contains($0.id) }
    }

    /// Re-appends each dead letter's original fields to its stream and deletes it from the
    /// dead-letter stream, one atomic script per entry. Returns (dead-letter id, new entry id).
    package static func replay(_ letters: [DeadLetter], biome: BiomeID, maxlen: Int, over redis: BlockingRedis.Server)
        throws(RedisError)
        -> [(from: String, to: String)]
    {
        var moved: [(from: String, to: String)] = []
        for letter in letters {
            var arguments: [RedisArgument] = [.string(letter.id), .integer(Int64(maxlen))]
            for (name, value) in letter.fields.sorted(by: { $0.key < $1.key }) {
                arguments += [.string(name), .string(value)]
            }
            let reply = try redis.run(
                StreamScripts.replayDeadLetter, keys: [StreamKey.events(biome), StreamKey.deadLetters(biome)],
                arguments: arguments)
            if let newID = reply.string { moved.append((letter.id, newID)) }
        }
        return moved
    }
}
