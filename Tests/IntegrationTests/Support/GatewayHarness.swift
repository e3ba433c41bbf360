import BusDomain
import BusGateway
import BusHTTP
import BusLoop
import BusRegions
import BusTesting
import Logging

/// An in-process gateway on a free port, serving the given regions; shut down on release.
final class GatewayHarness {
    let gateway: GatewayService

    var port: Int { gateway.port }

    init(regions: [RegionConfig], threads: Int = 2, configure: (inout GatewayService.Configuration) -> Void = { _ in })
        throws
    {
        var configuration = GatewayService.Configuration(
            catalog: try RegionCatalog(regions: regions), listen: ListenAddress(host: "127.0.0.1", port: 0),
            threads: threads)
        configure(&configuration)
        gateway = try GatewayService(
            configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        gateway.start()
        let ready = Polling.waitUntil {
            (try? PlainHTTPClient.request(port: gateway.port, method: "GET", path: "/readyz"))?.status == 200
        }
        guard ready else { throw FixtureError("gateway never became ready") }
    }

    deinit {
        gateway.shutdown()
    }

    /// A region on `redis` with `biomes`; other settings default.
    static func region(_ name: String, redis: RedisServerProcess, biomes: [Int64], maxlen: Int = 5000) -> RegionConfig {
        RegionConfig(
            name: name, redis: RedisAddress(host: "127.0.0.1", port: redis.port), biomes: biomes.map { BiomeID($0)! },
            stream: StreamConfig(maxlen: maxlen))
    }
}
