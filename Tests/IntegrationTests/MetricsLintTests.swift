import BusAuth
import BusConsumer
import BusHTTP
import BusLoop
import BusRegions
import BusTesting
import Foundation
import Logging
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `promtool check metrics` on each service's live /metrics: every metric has HELP and TYPE and
/// follows Prometheus's naming rules.
@Suite("promtool check metrics on every service")
struct MetricsLintTests {
    /// promtool's complaints about `exposition`, or "" when it is clean.
    private func promtool(_ exposition: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ProcessTools.executable("promtool"))
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(exposition.utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return process.terminationStatus == 0 ? "" : "exit \(process.terminationStatus): \(text)"
    }

    /// Scrapes /metrics until it contains `marker` (published gauges appear within a second);
    /// the last scrape either way.
    private func scrape(_ port: Int, until marker: String) async -> String {
        var text = ""
        _ = await Polling.waitUntilAsync {
            text = (try? PlainHTTPClient.request(port: port, method: "GET", path: "/metrics").text) ?? ""
            return text.contains(marker)
        }
        return text
    }

    @Test("gateway /metrics is clean, with region, stream and HTTP figures present")
    func gateway() async throws {
        let redis = try await RedisServerProcess.temporary()
        let harness = try GatewayHarness(regions: [GatewayHarness.region("north", redis: redis, biomes: [53])])
        #expect(
            try PlainHTTPClient.spawn(port: harness.port, #"{"biome_id": 53, "type": "chest", "coords": [1, 2]}"#)
                .status == 202)
        // The sampler publishes stream and group gauges once a second.
        let text = await scrape(harness.port, until: "biomebus_stream_length{")
        #expect(text.contains("biomebus_stream_length{"))
        #expect(text.contains("# HELP biomebus_spawn_requests_total "))
        #expect(text.contains("# HELP biomebus_http_connections "))
        #expect(try promtool(text) == "", "\(text)")
    }

    @Test("activation /metrics is clean")
    func activation() async throws {
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        try database.insertChest(id: "m-1")
        let harness = try ActivationHarness(postgresURL: database.url)
        #expect(try harness.activate(chest: "m-1", ifMatch: #""1""#).status == 200)
        let text = await scrape(harness.port, until: "biomebus_postgres_pool_waiting{")
        #expect(text.contains("biomebus_postgres_pool_waiting{"))
        #expect(text.contains("# HELP biomebus_activation_requests_total "))
        #expect(try promtool(text) == "", "\(text)")
    }

    @Test("with auth on, the refusal and rate-limit counters are clean too")
    func authCounters() async throws {
        let redis = try await RedisServerProcess.temporary()
        let gateway = try GatewayHarness(regions: [GatewayHarness.region("north", redis: redis, biomes: [53])]) {
            $0.spawnAuth = SpawnPolicy(clients: [])
        }
        #expect(
            try PlainHTTPClient.spawn(port: gateway.port, #"{"biome_id": 53, "type": "chest", "coords": [1, 2]}"#)
                .status == 401)
        let gatewayText = await scrape(gateway.port, until: "biomebus_auth_refusals_total{")
        #expect(gatewayText.contains("# HELP biomebus_auth_refusals_total "))
        #expect(try promtool(gatewayText) == "", "\(gatewayText)")

        let database = try await TestDatabase(on: try PostgresCluster.shared())
        let activation = try ActivationHarness(postgresURL: database.url) {
            $0.players = try! PlayerTokens.policy(limit: BucketLimit(perSecond: 0.01, burst: 1))
            $0.limiterRedis = RedisAddress(host: "127.0.0.1", port: redis.port)
        }
        #expect(try activation.activate(chest: "m-1", ifMatch: #""1""#).status == 401)
        let token = PlayerTokens.valid()
        for expected in [404, 429] {
            let response = try PlainHTTPClient.request(
                port: activation.port, method: "POST", path: "/v1/treasure/53/chests/m-1/activate",
                headers: ["If-Match": #""1""#, "Authorization": "Bearer \(token)"])
            #expect(response.status == expected)
        }
        let text = await scrape(activation.port, until: "biomebus_activation_rate_limited_total")
        #expect(text.contains("# HELP biomebus_activation_rate_limited_total "))
        #expect(text.contains(#"biomebus_auth_refusals_total{service="activation",reason="rate_limited"} 1"#))
        #expect(try promtool(text) == "", "\(text)")
    }

    @Test("consumer admin /metrics is clean")
    func consumer() async throws {
        let redis = try await RedisServerProcess.temporary()
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        let region = ConsumerHarness.region(redis: redis, biomes: [7])
        var configuration = ConsumerService.Configuration(
            region: region, biomes: region.biomes, consumerName: "lint", postgresURL: database.url)
        configuration.admin = ListenAddress(host: "127.0.0.1", port: 0)
        let service = try ConsumerService(
            configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        service.start()
        defer { service.shutdown() }
        let port = try #require(service.adminPort)
        let text = await scrape(port, until: "biomebus_consumer_handled_total{")
        #expect(text.contains("biomebus_consumer_handled_total{"))
        #expect(try promtool(text) == "", "\(text)")
    }
}
