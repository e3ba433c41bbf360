import ArgumentParser
import BusActivation
import BusChests
import BusRegions
import BusService
import Foundation

struct ActivationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activation",
        abstract: "Chest reads and ETag-guarded activation on Postgres."
    )

    @OptionGroup var postgres: PostgresOption

    @Option(help: "Address to listen on, HOST:PORT. Env: BIOMEBUS_LISTEN. Default 127.0.0.1:8081.")
    var listen: String?

    @Option(help: "The most Postgres connections the whole process holds.")
    var poolSize: Int = 8

    @Option(help: "Event loops (threads). Default: the number of cores (at most --pool-size).")
    var threads: Int?

    @Option(help: "Activations in flight at once per Postgres connection (libpq pipeline mode above 1).")
    var pipelineDepth: Int = 1

    @OptionGroup var tuning: PostgresTuningOptions

    @OptionGroup var auth: AuthOption

    @Option(
        name: .customLong("redis"),
        help: "Redis for per-player activation limits (redis://host:port/db). Env: BIOMEBUS_REDIS_URL.")
    var redisURL: String?

    func run() throws {
        try failingCleanly {
            let url = try postgres.url()
            let address = try listenAddress(listen, default: "127.0.0.1:8081")
            guard (1...1000).contains(poolSize) else {
                throw CLIError("--pool-size: expected 1 to 1000, got \(poolSize)")
            }
            guard (1...64).contains(pipelineDepth) else {
                throw CLIError("--pipeline-depth: expected 1 to 64, got \(pipelineDepth)")
            }
            let threadCount = try loopCount(threads)
            let authFile = try auth.load(regionNames: nil)
            let limiterRedis = try limiterAddress(required: authFile?.players?.activationLimit != nil)
            let logger = Logs.logger("activation")
            let signals = TerminationSignal()
            var configuration = ActivationService.Configuration(postgresURL: url, listen: address, threads: threadCount)
            configuration.poolSize = poolSize
            configuration.preparedStatements = tuning.preparedStatements
            configuration.pipelineDepth = pipelineDepth
            configuration.serverTimeouts = tuning.serverTimeouts
            configuration.http = try httpLimits()
            configuration.players = authFile?.players
            configuration.receipts = authFile?.receipts
            configuration.limiterRedis = limiterRedis
            logger.info(
                "activation starting", metadata: ["pool_size": "\(poolSize)", "threads": "\(configuration.loopCount)"])
            do {
                try Schema.migrate(postgresURL: url, logger: logger)
            } catch {
                throw CLIError("postgres: \(error)")
            }
            try serve("activation", signals: signals, logger: logger) {
                try ActivationService(configuration: configuration, logger: logger)
            } started: { service in
                logger.info("activation listening", metadata: ["address": "\(address.host):\(service.port)"])
                if configuration.players == nil {
                    warnRunningOpen(
                        "activation", what: "anyone who reaches it may open any chest as any player", logger: logger)
                }
            }
        }
    }

    /// `--redis` or `BIOMEBUS_REDIS_URL`: the limiter's Redis, required when limits are set.
    private func limiterAddress(required: Bool) throws -> RedisAddress? {
        guard let url = redisURL ?? ProcessInfo.processInfo.environment["BIOMEBUS_REDIS_URL"] else {
            guard !required else {
                throw CLIError(
                    "\(auth.path ?? "--auth"): players.limits is set, so --redis URL (or BIOMEBUS_REDIS_URL) is required"
                )
            }
            return nil
        }
        do {
            return try RedisAddress(url: url)
        } catch {
            throw CLIError("--redis: expected redis://host:port/db: \(error.reason)")
        }
    }
}
