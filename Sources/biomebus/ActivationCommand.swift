import ArgumentParser
import BusActivation
import BusChests
import BusService

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

    @Flag(inversion: .prefixedNo, help: "Prepare statements once per connection (off behind pgbouncer < 1.21).")
    var preparedStatements = true

    @Flag(
        inversion: .prefixedNo,
        help: "Send statement_timeout and lock_timeout at connect (off behind a pooler that refuses startup options).")
    var serverTimeouts = true

    func run() throws {
        try failingCleanly {
            let url = try postgres.url()
            let address = try listenAddress(listen, default: "127.0.0.1:8081")
            guard (1...1000).contains(poolSize) else {
                throw CLIError("--pool-size: expected 1 to 1000, got \(poolSize)")
            }
            let threadCount = threads ?? ServiceHost.processorCount
            guard (1...256).contains(threadCount) else {
                throw CLIError("--threads: expected 1 to 256, got \(threadCount)")
            }
            let logger = Logs.logger("activation")
            let signals = TerminationSignal()
            var configuration = ActivationService.Configuration(postgresURL: url, listen: address, threads: threadCount)
            configuration.poolSize = poolSize
            configuration.preparedStatements = preparedStatements
            configuration.serverTimeouts = serverTimeouts
            configuration.http = try httpLimits()
            logger.info(
                "activation starting", metadata: ["pool_size": "\(poolSize)", "threads": "\(configuration.loopCount)"])
            do {
                try Schema.migrate(postgresURL: url, logger: logger)
            } catch {
                throw CLIError("postgres: \(error)")
            }
            let service: ActivationService
            do {
                service = try ActivationService(configuration: configuration, logger: logger)
            } catch {
                throw CLIError("\(error)")
            }
            service.start()
            logger.info("activation listening", metadata: ["address": "\(address.host):\(service.port)"])
            serveUntilSignalled("activation", signals: signals, logger: logger, shutdown: service.shutdown)
        }
    }
}
