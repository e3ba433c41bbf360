import ArgumentParser
import BusChests
import BusConsumer
import BusDomain
import BusHTTP
import BusLoop
import BusRegions
import BusService
import Foundation

struct ConsumerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consumer",
        abstract:
            "A biome-bound consumer: reads its biomes' streams in the region's group and materializes chests in Postgres."
    )

    @OptionGroup var regions: RegionsOption

    @Option(name: .customLong("biome"), parsing: .upToNextOption, help: "Biome ids to consume (all in one region).")
    var biomes: [String] = []

    @Option(help: "Consume every biome of this region.")
    var region: String?

    @OptionGroup var postgres: PostgresOption

    @Option(help: "Consumer name in the group. Default: <hostname>-<pid>.")
    var name: String?

    @Option(help: "Admin listener for /healthz, /readyz and /metrics, HOST:PORT.")
    var admin: String?

    @OptionGroup var tuning: PostgresTuningOptions

    func run() throws {
        try failingCleanly {
            let catalog = try regions.load()
            let (region, selected) = try selection(in: catalog)
            let url = try postgres.url()
            let consumerName =
                name ?? "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
            guard Identifiers.isValidChestID(consumerName) else {
                throw CLIError("--name: expected 1 to 64 characters from [A-Za-z0-9_.:-], got \"\(consumerName)\"")
            }
            var configuration = ConsumerService.Configuration(
                region: region, biomes: selected, consumerName: consumerName, postgresURL: url)
            configuration.preparedStatements = tuning.preparedStatements
            configuration.serverTimeouts = tuning.serverTimeouts
            configuration.http = try httpLimits()
            if let admin {
                guard let address = ListenAddress(admin) else {
                    throw CLIError("--admin: expected HOST:PORT, got \"\(admin)\"")
                }
                configuration.admin = address
            }
            let logger = Logs.logger("consumer")
            let signals = TerminationSignal()
            logger.info(
                "consumer starting",
                metadata: [
                    "region": "\(region.name)", "biomes": "\(selected.map(\.description).joined(separator: ","))",
                    "name": "\(consumerName)", "handler_timeout_ms": "\(region.consumer.handlerTimeoutMs)",
                ])
            do {
                try Schema.migrate(postgresURL: url, logger: logger)
            } catch {
                throw CLIError("postgres: \(error)")
            }
            try serve("consumer", signals: signals, logger: logger) {
                try ConsumerService(configuration: configuration, logger: logger)
            } started: { service in
                if let port = service.adminPort, let admin = configuration.admin {
                    logger.info("admin listening", metadata: ["address": "\(admin.host):\(port)"])
                }
            }
        }
    }

    /// The region and biomes chosen by `--region` or `--biome`.
    private func selection(in catalog: RegionCatalog) throws -> (RegionConfig, [BiomeID]) {
        switch (region, biomes.isEmpty) {
        case (let name?, true):
            guard let region = catalog.region(named: name) else {
                throw CLIError("--region: no region named \"\(name)\" in the region files")
            }
            return (region, region.biomes)
        case (nil, false):
            var chosen: [BiomeID] = []
            var owner: RegionConfig?
            for text in biomes {
                guard let biome = BiomeID(text) else {
                    throw CLIError("--biome: expected an integer from 0 to 2147483647, got \"\(text)\"")
                }
                guard let index = catalog.regionIndex(of: biome) else {
                    throw CLIError("--biome: biome \(biome) belongs to no region")
                }
                let region = catalog.regions[index]
                if let owner, owner.name != region.name {
                    throw CLIError(
                        "--biome: biomes of regions \(owner.name) and \(region.name) given; run one consumer per region"
                    )
                }
                owner = region
                guard !chosen.contains(biome) else { throw CLIError("--biome: biome \(biome) is given twice") }
                chosen.append(biome)
            }
            return (owner!, chosen)
        default:
            throw CLIError("give either --region NAME or --biome ID…")
        }
    }
}
