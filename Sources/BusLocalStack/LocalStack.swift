import BusActivation
import BusAuth
import BusChests
import BusConsumer
import BusDomain
import BusGateway
import BusHTTP
import BusLoop
import BusOps
import BusPostgres
import BusRegions
import BusService
import BusTesting
import Foundation
import Logging

/// `biomebus up`: the whole system on one machine. Starts its own Redis and Postgres unless
/// given URLs, points every region at that Redis, migrates, and runs the gateway, the
/// activation service and one consumer per region in this process.
package final class LocalStack: @unchecked Sendable {
    // @unchecked Sendable: start() and stop() run on the command's main thread; the summary and
    // demo threads only read the services and addresses, which `lock` guards.
    private let lock = NSLock()
    package struct Options: Sendable {
        package var regionsDirectory = "regions"
        /// Use this Redis for every region instead of starting one.
        package var redisURL: String?
        /// Use this Postgres instead of starting one.
        package var postgresURL: String?
        package var activationListen = ListenAddress(host: "127.0.0.1", port: 8081)
        package var dataDirectory = ".biomebus"
        package var redisConfigFile = "redis.conf"
        package var gatewayListen = ListenAddress(host: "127.0.0.1", port: 8080)
        package var threads = 2
        /// `up --auth FILE`: the auth file, loaded; nil (the default) runs every service open.
        package var authFile: AuthFile?
        /// Where `authFile` was read from, for the welcome text.
        package var authFilePath: String?

        package init() {}
    }

    private let logger: Logger
    private var redis: RedisServerProcess?
    private var postgres: PostgresCluster?
    private var gateway: GatewayService?
    private var activation: ActivationService?
    private var consumers: [ConsumerService] = []
    /// Where the activation service listens (after start).
    package private(set) var activationAddress: ListenAddress?
    /// The Postgres the services use (after start).
    package private(set) var postgresURL: String?
    /// The regions as the stack runs them (every one on the stack's Redis).
    package private(set) var catalog: RegionCatalog?
    /// Reads stream depths for the summary.
    private var probe: StatusProbe?
    /// Where the gateway listens (after start).
    package private(set) var gatewayAddress: ListenAddress?
    /// The Redis every region uses (after start).
    package private(set) var redisAddress: RedisAddress?
    /// What the welcome text says about credentials (after start): which services need one.
    private var auth: (path: String, spawn: Bool, players: Bool)?

    package init(logger: Logger) {
        self.logger = logger
    }

    /// Starts everything; on failure, stops what was started and throws.
    package func start(_ options: Options) throws(LocalStackError) {
        do {
            try startAll(options)
        } catch {
            stop()
            throw error
        }
    }

    private func startAll(_ options: Options) throws(LocalStackError) {
        let catalog: RegionCatalog
        do {
            catalog = try RegionCatalog.load(directory: options.regionsDirectory)
        } catch {
            throw LocalStackError(error.description)
        }
        let dataDirectory = URL(fileURLWithPath: options.dataDirectory).standardizedFileURL
        try? FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)

        let address: RedisAddress
        if let url = options.redisURL {
            do {
                address = try RedisAddress(url: url)
            } catch {
                throw LocalStackError(
                    "--redis: expected redis://host:port/db or redis+sentinel://…/<master-name>: \(error.reason)")
            }
        } else {
            let managed = try Self.startRedis(configFile: options.redisConfigFile, dataDirectory: dataDirectory)
            redis = managed
            address = RedisAddress(host: "127.0.0.1", port: managed.port)
            logger.info("redis started", metadata: ["redis": "\(address)", "data": "\(dataDirectory.path)/redis"])
        }
        redisAddress = address
        let local: RegionCatalog
        do {
            local = try RegionCatalog(
                regions: catalog.regions.map { region in
                    var region = region
                    region.redis = address
                    return region
                })
        } catch {
            throw LocalStackError(error.description)
        }

        self.catalog = local
        // The regions as this stack runs them, for `biomebus status --regions .biomebus/regions`.
        let regionsDirectory = dataDirectory.appendingPathComponent("regions")
        try? FileManager.default.removeItem(at: regionsDirectory)
        try? FileManager.default.createDirectory(at: regionsDirectory, withIntermediateDirectories: true)
        for region in local.regions {
            try? region.yaml.write(
                to: regionsDirectory.appendingPathComponent("\(region.name).yaml"), atomically: true, encoding: .utf8)
        }

        let postgresURL: String
        if let url = options.postgresURL {
            postgresURL = url
        } else {
            let managed = try Self.startPostgres(dataDirectory: dataDirectory)
            postgres = managed
            postgresURL = managed.url
            logger.info(
                "postgres started",
                metadata: [
                    "postgres": "\(PostgresURLRedaction.redacted(managed.url))",
                    "data": "\(managed.directory.path)",
                ])
        }
        self.postgresURL = postgresURL
        do {
            try Schema.migrate(postgresURL: postgresURL, logger: logger)
        } catch {
            throw LocalStackError("postgres: \(error)")
        }

        for region in local.regions {
            var configuration = ConsumerService.Configuration(
                region: region, biomes: region.biomes, consumerName: "local-\(region.name)", postgresURL: postgresURL)
            configuration.poolSize = 4
            do {
                let consumer = try ConsumerService(configuration: configuration, logger: logger)
                consumer.start()
                consumers.append(consumer)
            } catch {
                throw LocalStackError("consumer for \(region.name): \(error)")
            }
            logger.info("consumer started", metadata: ["region": "\(region.name)"])
        }

        var activationListen = options.activationListen
        if activationListen.port != 0 && !LoopbackPorts.isFree(activationListen.port) {
            activationListen.port = LoopbackPorts.choose(preferred: activationListen.port + 1)
        }
        do {
            var configuration = ActivationService.Configuration(
                postgresURL: postgresURL, listen: activationListen, threads: options.threads)
            configuration.poolSize = 4
            configuration.players = options.authFile?.players
            configuration.receipts = options.authFile?.receipts
            // The stack's one Redis holds the activation buckets too.
            configuration.limiterRedis = address
            let service = try ActivationService(configuration: configuration, logger: logger)
            service.start()
            activation = service
            activationListen.port = service.port
        } catch {
            throw LocalStackError("\(error)")
        }
        activationAddress = activationListen
        logger.info("activation listening", metadata: ["address": "\(activationListen)"])

        var listen = options.gatewayListen
        if listen.port != 0 && !LoopbackPorts.isFree(listen.port) {
            listen.port = LoopbackPorts.choose(preferred: listen.port)
        }
        do {
            var configuration = GatewayService.Configuration(catalog: local, listen: listen, threads: options.threads)
            configuration.spawnAuth = options.authFile?.spawn
            let gateway = try GatewayService(configuration: configuration, logger: logger)
            gateway.start()
            self.gateway = gateway
            listen.port = gateway.port
        } catch {
            throw LocalStackError(error.description)
        }
        gatewayAddress = listen
        if let file = options.authFile {
            auth = (options.authFilePath ?? "the auth file", file.spawn != nil, file.players != nil)
        }
        logger.info("gateway listening", metadata: ["address": "\(listen)"])
        probe = StatusProbe(catalog: local)
    }

    /// The stack's own redis-server: `./redis.conf`, data under `<data>/redis`, loopback,
    /// on 6379 or the first free port after it.
    private static func startRedis(configFile: String, dataDirectory: URL) throws(LocalStackError)
        -> RedisServerProcess
    {
        guard ProcessTools.find("redis-server") != nil, ProcessTools.find("redis-cli") != nil else {
            throw LocalStackError("redis-server or redis-cli not found; run scripts/bootstrap (or pass --redis URL)")
        }
        guard FileManager.default.fileExists(atPath: configFile) else {
            throw LocalStackError("\(configFile) not found; run from the repository root (or pass --redis URL)")
        }
        do {
            return try RedisServerProcess(
                configFile: configFile, directory: dataDirectory.appendingPathComponent("redis"),
                port: LoopbackPorts.choose(preferred: 6379), persistent: true)
        } catch {
            throw LocalStackError(error.description)
        }
    }

    /// The stack's own Postgres: a persistent cluster under `<data>/postgres`, on 5432 or the
    /// first free port after it, with a `biomebus` database.
    private static func startPostgres(dataDirectory: URL) throws(LocalStackError) -> PostgresCluster {
        guard PostgresCluster.binaries() != nil else {
            throw LocalStackError(
                "PostgreSQL not found under /usr/lib/postgresql; run scripts/bootstrap (or pass --postgres URL)")
        }
        do {
            return try PostgresCluster(
                directory: dataDirectory.appendingPathComponent("postgres"),
                port: LoopbackPorts.choose(preferred: 5432), database: "biomebus", ephemeral: false)
        } catch {
            throw LocalStackError(error.description)
        }
    }

    /// Runs the demo players against the running stack.
    package func runDemo() -> LocalDemo.Report? {
        guard let gatewayAddress, let activationAddress, let catalog else { return nil }
        return LocalDemo.run(gatewayPort: gatewayAddress.port, activationPort: activationAddress.port, catalog: catalog)
    }

    /// One summary line: spawns/s and activations/s since `previous`, spawn p99, and per region
    /// the stream depth and pending entries (read from Redis).
    package func summary(since previous: inout (spawns: Int, activations: Int, at: Date)) -> String {
        let (gateway, activation, probe) = lock.withLock { (self.gateway, self.activation, self.probe) }
        guard let gateway, let activation else { return "" }
        let spawns = gateway.spawnLatency
        let activations = activation.requestLatency
        let now = Date()
        let seconds = max(now.timeIntervalSince(previous.at), 0.001)
        let spawnRate = Double(spawns.total - previous.spawns) / seconds
        let activationRate = Double(activations.total - previous.activations) / seconds
        previous = (spawns.total, activations.total, now)
        let p99 = spawns.quantile(0.99).map { $0 < 1 ? "≤\(Int($0 * 1000)) ms" : "≤\($0) s" } ?? "-"
        var depth = ""
        if let probe {
            let snapshot = probe.snapshot()
            depth = snapshot.regions.map { region in
                let length = region.biomes.reduce(0) { $0 + $1.length }
                let pending = region.biomes.reduce(0) { $0 + $1.groups.reduce(0) { $0 + $1.pending } }
                return "\(region.name) depth=\(length) pending=\(pending)"
            }.joined(separator: ", ")
        }
        return
            "spawns/s=\(Int(spawnRate.rounded())) activations/s=\(Int(activationRate.rounded())) spawn p99 \(p99) | \(depth)"
    }

    /// Stops the services (gateway first, so nothing new arrives), then the servers it
    /// started. Safe to call twice.
    package func stop() {
        let (gateway, activation, probe) = lock.withLock {
            defer {
                self.gateway = nil
                self.activation = nil
                self.probe = nil
            }
            return (self.gateway, self.activation, self.probe)
        }
        probe?.close()
        gateway?.shutdown()
        activation?.shutdown()
        for consumer in consumers { consumer.shutdown() }
        consumers = []
        if let postgres {
            postgres.stop()
            logger.info("postgres stopped")
        }
        postgres = nil
        if let redis {
            redis.stop()
            logger.info("redis stopped")
        }
        redis = nil
    }

    /// What to print for a newcomer once the stack is up.
    package func welcome(sampleBiome: Int = 53) -> String {
        guard let gatewayAddress, let redisAddress, let activationAddress, let postgresURL else { return "" }
        // With auth on, the commands below carry the credentials it asks for. The stack holds
        // only token hashes, so it can say where a token comes from, never print one.
        var authNote = ""
        if let auth {
            authNote = "Auth is on (\(auth.path)).\n"
            if auth.spawn {
                authNote +=
                    "$TOKEN: a game-server token of a spawn.clients entry in it (`biomebus auth new-client` prints one).\n"
            }
            if auth.players { authNote += "$PLAYER_JWT: a player JWT from your identity provider, sub p-1.\n" }
            authNote += "\n"
        }
        let spawnHeader = auth?.spawn == true ? "-H \"Authorization: Bearer $TOKEN\" " : ""
        let playerHeader = auth?.players == true ? "-H \"Authorization: Bearer $PLAYER_JWT\" " : ""
        return """

            BiomeBus is up.
              gateway:     http://\(gatewayAddress)
              activation:  http://\(activationAddress)
              redis:       \(redisAddress)
              postgres:    \(PostgresURLRedaction.redacted(postgresURL))

            \(authNote)Post a spawn (a consumer turns it into a chest within milliseconds):
              curl -i -X POST http://\(gatewayAddress)/v1/spawn \\
                -H 'Content-Type: application/json' \(spawnHeader)\\
                -d '{"biome_id": \(sampleBiome), "type": "chest", "coords": [1.5, 2.0, 3.25], "chest_id": "c-9"}'

            Read the chest and its ETag, then open it with If-Match:
              curl -i \(playerHeader)http://\(activationAddress)/v1/treasure/\(sampleBiome)/chests/c-9
              curl -i -X POST http://\(activationAddress)/v1/treasure/\(sampleBiome)/chests/c-9/activate \\
                -H 'If-Match: "1"' -H 'Content-Type: application/json' \(playerHeader)-d '{"player_id": "p-1"}'

            Ops view: http://\(gatewayAddress)/v1/regions, /metrics, or
              biomebus status --regions .biomebus/regions

            Ctrl-C stops everything.

            """
    }
}

/// A reason the local stack cannot start, in one human line.
package struct LocalStackError: Error, CustomStringConvertible {
    package let description: String

    init(_ description: String) {
        self.description = description
    }
}
