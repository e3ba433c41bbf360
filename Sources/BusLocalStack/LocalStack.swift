import BusDomain
import BusGateway
import BusHTTP
import Foundation
import Logging

/// `biomebus up`: the whole system on one machine. Starts its own Redis unless given one,
/// points every region at it, and runs the services in this process.
public final class LocalStack {
    public struct Options: Sendable {
        public var regionsDirectory = "regions"
        /// Use this Redis for every region instead of starting one.
        public var redisURL: String?
        public var dataDirectory = ".biomebus"
        public var redisConfigFile = "redis.conf"
        public var gatewayListen = ListenAddress(host: "127.0.0.1", port: 8080)
        public var threads = 2

        public init() {}
    }

    private let logger: Logger
    private var redis: ManagedRedis?
    private var gateway: Gateway?
    /// Where the gateway listens (after start).
    public private(set) var gatewayAddress: ListenAddress?
    /// The Redis every region uses (after start).
    public private(set) var redisAddress: RedisAddress?

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Starts everything; on failure, stops what was started and throws.
    public func start(_ options: Options) throws(LocalStackError) {
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
                throw LocalStackError("--redis: expected redis://host:port/db: \(error.reason)")
            }
        } else {
            let managed = try ManagedRedis(
                configFile: options.redisConfigFile, dataDirectory: dataDirectory, preferredPort: 6379)
            redis = managed
            address = managed.address
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

        var listen = options.gatewayListen
        if listen.port != 0 && !isPortFree(listen.port) { listen.port = choosePort(preferred: listen.port) }
        do {
            let gateway = try Gateway(
                configuration: GatewayConfiguration(catalog: local, listen: listen, threads: options.threads),
                logger: logger)
            gateway.start()
            self.gateway = gateway
            listen.port = gateway.port
        } catch {
            throw LocalStackError(error.description)
        }
        gatewayAddress = listen
        logger.info("gateway listening", metadata: ["address": "\(listen)"])
    }

    /// Stops the services, then the servers it started. Safe to call twice.
    public func stop() {
        gateway?.shutdown()
        gateway = nil
        if let redis {
            redis.stop()
            logger.info("redis stopped")
        }
        redis = nil
    }

    /// What to print for a newcomer once the stack is up.
    public func welcome(sampleBiome: Int = 53) -> String {
        guard let gatewayAddress, let redisAddress else { return "" }
        return """

            BiomeBus is up.
              gateway:  http://\(gatewayAddress)
              redis:    \(redisAddress)

            Post a spawn:
              curl -i -X POST http://\(gatewayAddress)/v1/spawn \\
                -H 'Content-Type: application/json' \\
                -d '{"biome_id": \(sampleBiome), "type": "chest", "coords": [1.5, 2.0, 3.25], "chest_id": "c-9"}'

            See it in its stream:
              redis-cli -p \(redisAddress.port) XRANGE EVSTREAM:\(sampleBiome) - +

            Ctrl-C stops everything.

            """
    }
}
