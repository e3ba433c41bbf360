import ArgumentParser
import BusDomain
import BusJSON
import BusOps
import BusRegions
import Foundation

struct DLQCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract:
            "Inspect dead letters; replay re-appends them to their stream and removes them from the dead-letter stream.",
        subcommands: [List.self, Replay.self]
    )

    struct Target: ParsableArguments {
        @OptionGroup var regions: RegionsOption

        @Option(help: "The biome whose dead letters (EVDLQ:<biome>) to use.")
        var biome: String

        @Option(name: .customLong("id"), parsing: .upToNextOption, help: "Only these dead-letter entry ids.")
        var ids: [String] = []

        func resolve() throws -> (BiomeID, RegionConfig, BlockingRedis) {
            let catalog = try regions.load(validation: .exceptConsumerTuning)
            guard let biome = BiomeID(biome) else {
                throw CLIError("--biome: expected an integer from 0 to 2147483647, got \"\(self.biome)\"")
            }
            guard let index = catalog.regionIndex(of: biome) else {
                throw CLIError("--biome: biome \(biome) belongs to no region")
            }
            let region = catalog.regions[index]
            return (biome, region, BlockingRedis())
        }

        /// The region's Redis, once it answers.
        func server(of region: RegionConfig, over redis: BlockingRedis) throws -> BlockingRedis.Server {
            do {
                return try redis.server(region.redis)
            } catch {
                throw CLIError("region \(region.name): cannot reach \(region.redis): \(error)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the dead letters of a biome, one JSON object per line.")

        @OptionGroup var target: Target

        func run() throws {
            try failingCleanly {
                let (biome, region, redis) = try target.resolve()
                defer { redis.close() }
                let server = try target.server(of: region, over: redis)
                let letters: [DeadLetter]
                do {
                    letters = try DeadLetters.list(biome, ids: target.ids, over: server)
                } catch {
                    throw CLIError("\(error)")
                }
                for letter in letters {
                    var writer = JSONWriter()
                    writer.beginObject()
                    writer.field("id", letter.id)
                    writer.field("source_id", letter.sourceID ?? "")
                    writer.key("deliveries")
                    if let deliveries = letter.deliveries { writer.integer(deliveries) } else { writer.null() }
                    writer.field("error", letter.error ?? "")
                    writer.key("fields")
                    writer.beginObject()
                    for (name, value) in letter.fields.sorted(by: { $0.key < $1.key }) { writer.field(name, value) }
                    writer.endObject()
                    writer.endObject()
                    print(writer.text)
                }
            }
        }
    }

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-append dead letters to their stream and remove them from the dead-letter stream.")

        @OptionGroup var target: Target

        func run() throws {
            try failingCleanly {
                let (biome, region, redis) = try target.resolve()
                defer { redis.close() }
                let server = try target.server(of: region, over: redis)
                do {
                    let letters = try DeadLetters.list(biome, ids: target.ids, over: server)
                    let moved = try DeadLetters.replay(
                        letters, biome: biome, maxlen: region.stream.maxlen, over: server)
                    for (from, to) in moved { print("replayed \(from) -> \(StreamKey.events(biome)) \(to)") }
                    print("\(moved.count) dead letter(s) replayed")
                } catch {
                    throw CLIError("\(error)")
                }
            }
        }
    }
}
