import BusActivation
import BusConsumer
import BusDomain
import BusLoop
import BusRegions
import BusTesting
import Logging
import Testing

/// The `/readyz` 503 of activation and consumer: the chassis' one body (`not_ready`, a list per
/// kind of dependency, `Retry-After`), with addresses whose passwords are redacted.
@Suite("Readiness bodies of activation and consumer")
struct ReadinessBodyTests {
    private let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// A Postgres URL with a password, on a port nothing listens on.
    private func unreachablePostgres() -> String {
        "postgresql://biomebus:Pg5ecret@127.0.0.1:\(LoopbackPorts.freePort())/chests?sslmode=disable"
    }

    private func notReady(port: Int) async -> PlainHTTPResponse? {
        var answer: PlainHTTPResponse?
        _ = await Polling.waitUntilAsync {
            answer = try? PlainHTTPClient.request(port: port, method: "GET", path: "/readyz")
            return answer?.status == 503
        }
        return answer
    }

    @Test("activation, Postgres down: 503 not_ready with Retry-After and the postgres list")
    func activation() async throws {
        let service = try ActivationService(
            configuration: .init(
                postgresURL: unreachablePostgres(), listen: ListenAddress(host: "127.0.0.1", port: 0), threads: 1),
            logger: logger)
        service.start()
        defer { service.shutdown() }
        let answer = try #require(await notReady(port: service.port))
        #expect(answer.errorCode == "not_ready")
        #expect(answer.headers["retry-after"] == "1")
        #expect(
            (answer.json["error"] as? [String: Any])?["message"] as? String
                == "postgres not answering: biomebus-activation")
        let postgres = try #require(answer.json["postgres"] as? [[String: Any]])
        #expect(postgres.count == 1)
        #expect(postgres.first?["name"] as? String == "biomebus-activation")
        #expect((postgres.first?["postgres"] as? String)?.contains("127.0.0.1") == true)
        #expect(postgres.first?["error"] is String)
        #expect(!answer.text.contains("Pg5ecret"), "\(answer.text)")
    }

    @Test("consumer, Redis and Postgres down: 503 not_ready with Retry-After, a redis and a postgres list")
    func consumer() async throws {
        let region = RegionConfig(
            name: "north", redis: RedisAddress(host: "127.0.0.1", port: LoopbackPorts.freePort(), password: "R3dis"),
            biomes: [BiomeID(7)!])
        var configuration = ConsumerService.Configuration(
            region: region, biomes: region.biomes, consumerName: "ready", postgresURL: unreachablePostgres())
        configuration.admin = ListenAddress(host: "127.0.0.1", port: 0)
        let service = try ConsumerService(configuration: configuration, logger: logger)
        service.start()
        defer { service.shutdown() }
        let adminPort = try #require(service.adminPort)
        let answer = try #require(await notReady(port: adminPort))
        #expect(answer.errorCode == "not_ready")
        #expect(answer.headers["retry-after"] == "1")
        #expect(
            (answer.json["error"] as? [String: Any])?["message"] as? String
                == "redis not answering: north; postgres not answering: biomebus-consumer")
        let redis = try #require(answer.json["redis"] as? [[String: Any]])
        #expect(redis.first?["name"] as? String == "north")
        #expect((redis.first?["redis"] as? String)?.hasPrefix("redis://") == true)
        let postgres = try #require(answer.json["postgres"] as? [[String: Any]])
        #expect(postgres.first?["name"] as? String == "biomebus-consumer")
        #expect(!answer.text.contains("Pg5ecret") && !answer.text.contains("R3dis"), "\(answer.text)")
    }

    @Test("consumer, its Redis stopped: the redis entry carries the connection's latest error, as the gateway's does")
    func consumerRedisError() async throws {
        let redis = try await RedisServerProcess.temporary()
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        let region = ConsumerHarness.region(redis: redis, biomes: [7])
        var configuration = ConsumerService.Configuration(
            region: region, biomes: region.biomes, consumerName: "ready-error", postgresURL: database.url)
        configuration.admin = ListenAddress(host: "127.0.0.1", port: 0)
        let service = try ConsumerService(configuration: configuration, logger: logger)
        service.start()
        defer { service.shutdown() }
        let adminPort = try #require(service.adminPort)
        #expect(
            await Polling.waitUntilAsync {
                (try? PlainHTTPClient.request(port: adminPort, method: "GET", path: "/readyz"))?.status == 200
            })

        await redis.kill()
        var entry: [String: Any]?
        let refused = await Polling.waitUntilAsync(timeout: .seconds(20)) {
            let answer = try? PlainHTTPClient.request(port: adminPort, method: "GET", path: "/readyz")
            entry = (answer?.json["redis"] as? [[String: Any]])?.first
            return (entry?["error"] as? String)?.lowercased().contains("connection refused") == true
        }
        #expect(refused, "the redis entry: \(String(describing: entry))")
        #expect((entry?["error"] as? String)?.contains("127.0.0.1:\(redis.port)") == true)
    }
}
