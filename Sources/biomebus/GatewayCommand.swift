import ArgumentParser
import BusDomain
import BusGateway
import BusService
import Foundation

struct GatewayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "HTTP front door: validates spawn events and appends them to per-biome Redis streams."
    )

    @OptionGroup var regions: RegionsOption

    @Option(help: "Address to listen on, HOST:PORT. Env: BIOMEBUS_LISTEN. Default 127.0.0.1:8080.")
    var listen: String?

    @Option(help: "Event loops (threads). Default: the number of cores.")
    var threads: Int?

    @OptionGroup var auth: AuthOption

    func run() throws {
        try failingCleanly {
            let catalog = try regions.load(validation: .exceptConsumerTuning)
            let address = try listenAddress(listen, default: "127.0.0.1:8080")
            let threadCount = try loopCount(threads)
            let http = try httpLimits()
            let authFile = try auth.load(regionNames: Set(catalog.regions.map(\.name)))
            let logger = Logs.logger("gateway")
            let signals = TerminationSignal()
            logger.info(
                "gateway starting",
                metadata: [
                    "regions": "\(catalog.regions.map(\.name).joined(separator: ","))", "threads": "\(threadCount)",
                ])
            var configuration = GatewayService.Configuration(catalog: catalog, listen: address, threads: threadCount)
            configuration.http = http
            configuration.spawnAuth = authFile?.spawn
            // Only for measuring what request metrics cost (docs/benchmarks.md).
            configuration.requestMetrics = ProcessInfo.processInfo.environment["BIOMEBUS_REQUEST_METRICS"] != "off"
            try serve("gateway", signals: signals, logger: logger) {
                try GatewayService(configuration: configuration, logger: logger)
            } started: { gateway in
                logger.info("gateway listening", metadata: ["address": "\(address.host):\(gateway.port)"])
                // Once serving, so that a startup error stays the only line.
                if configuration.spawnAuth == nil {
                    warnRunningOpen("gateway", what: "anyone who reaches it may spawn into any region", logger: logger)
                }
            }
        }
    }
}
