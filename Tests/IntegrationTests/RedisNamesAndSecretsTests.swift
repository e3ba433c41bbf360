import BusDomain
import BusRegions
import BusTesting
import Foundation
import Testing

/// Host names resolved without blocking the loop, ACL users, and passwords kept out of every
/// message: against real redis-server and Postgres, and the built `biomebus`.
@Suite("Redis and Postgres by name, ACL users, no secrets in errors")
struct RedisNamesAndSecretsTests {
    private static func body(_ biome: Int) -> String {
        #"{"biome_id": \#(biome), "type": "chest", "coords": [1, 2]}"#
    }

    private func regionsDirectory(_ files: [String: String]) throws -> URL {
        let directory = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-regions")
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return directory
    }

    @Test("a region whose Redis name never resolves leaves the other region on the same loop at 202")
    func stalledNameDoesNotBlockTheLoop() async throws {
        let redis = try await RedisServerProcess.temporary()
        let nameserver = try StalledNameserver()
        let regions = try regionsDirectory([
            "north.yaml": "name: north\nredis: \(redis.url)\nbiomes: [1]\n",
            "south.yaml": "name: south\nredis: redis://:SouthS3cret@redis.stalled.test:6379/0\nbiomes: [2]\n",
        ])
        let port = LoopbackPorts.freePort()
        // One loop: both regions' connections live on it.
        let child = try BiomeBusProcess(
            ["gateway", "--regions", regions.path, "--listen", "127.0.0.1:\(port)", "--threads", "1"],
            environment: ["BIOMEBUS_RESOLV_CONF": nameserver.resolvConf.path])
        #expect(await child.waitForLog("gateway listening"), "\(child.stderr)")

        // The south lookup (an A and an AAAA question) goes to the silent nameserver; glibc's
        // getaddrinfo would never ask it.
        #expect(await Polling.waitUntilAsync { nameserver.queries >= 2 })
        let firstAttempt = 2
        // Spawn to north until south's lookup has timed out (1 s) and a retry asked again: a
        // blocked loop would hold a spawn for the rest of that second.
        let clock = ContinuousClock()
        let giveUp = clock.now + .seconds(15)
        var spawns = 0
        while spawns < 10 || (nameserver.queries <= firstAttempt && clock.now < giveUp) {
            let start = clock.now
            let response = try PlainHTTPClient.spawn(port: port, Self.body(1))
            let took = clock.now - start
            #expect(response.status == 202)
            #expect(took < .milliseconds(500), "spawn \(spawns) took \(took) while south was resolving")
            spawns += 1
        }
        #expect(nameserver.queries > firstAttempt, "no second lookup after \(spawns) spawns")
        #expect(try redis.streamLength("EVSTREAM:1") == spawns)

        let south = try PlainHTTPClient.spawn(port: port, Self.body(2))
        #expect(south.status == 503)
        #expect(south.errorCode == "region_unavailable")
        let readiness = try PlainHTTPClient.request(port: port, method: "GET", path: "/readyz")
        #expect(readiness.status == 503)
        #expect(readiness.text.contains("redis.stalled.test"), "\(readiness.text)")
        #expect(readiness.text.contains("timed out"), "\(readiness.text)")
        #expect(!readiness.text.contains("SouthS3cret"))
        child.signal(SIGTERM)
        #expect(await child.waitForExit() == 0)
        #expect(!child.stderr.contains("SouthS3cret"), "\(child.stderr)")
    }

    @Test("ACL users by URL, a percent-encoded password, and localhost from /etc/hosts")
    func aclUsersAndLocalhost() throws {
        let redis = try RedisServerProcess.temporary()
        try redis.cli("ACL", "SETUSER", "alice", "on", ">s3cret", "~*", "+@all")
        try redis.cli("ACL", "SETUSER", "bob", "on", ">p@ss/w%rd:", "~*", "+@all")
        // With a password on the default user, only a working AUTH gets a region ready.
        try redis.cli("CONFIG", "SET", "requirepass", "DefaultS3cret")
        let harness = try GatewayHarness(regions: [
            RegionConfig(
                name: "north", redis: try RedisAddress(url: "redis://alice:s3cret@localhost:\(redis.port)/0"),
                biomes: [BiomeID(1)!]),
            RegionConfig(
                name: "south", redis: try RedisAddress(url: "redis://bob:p%40ss%2Fw%25rd%3A@127.0.0.1:\(redis.port)/0"),
                biomes: [BiomeID(2)!]),
        ])
        #expect(try PlainHTTPClient.spawn(port: harness.port, Self.body(1)).status == 202)
        #expect(try PlainHTTPClient.spawn(port: harness.port, Self.body(2)).status == 202)
        let authed = ["-a", "DefaultS3cret", "--no-auth-warning"]
        #expect(try redis.cli(authed + ["XLEN", "EVSTREAM:1"]) == "1")
        #expect(try redis.cli(authed + ["XLEN", "EVSTREAM:2"]) == "1")
        let clients = try redis.cli(authed + ["CLIENT", "LIST"])
        #expect(clients.contains("user=alice"))
        #expect(clients.contains("user=bob"))
    }

    @Test("startup errors never print a Postgres or Redis password")
    func startupErrorsAreRedacted() throws {
        let closed = LoopbackPorts.freePort()
        let postgresURLs = [
            // libpq quotes the bad token, i.e. the password, in its own message.
            "postgresql://app:Pg%zzS3cret@127.0.0.1:\(closed)/x",
            "postgresql://app:PgS3cret@127.0.0.1:\(closed)/x",
            "postgresql://app@127.0.0.1:\(closed)/x?password=PgS3cret",
            "postgresql://app:PgS3cret@127.0.0.1:notaport/x",
            "host=127.0.0.1 password=PgS3cret",
        ]
        for url in postgresURLs {
            let child = try BiomeBusProcess(["activation", "--postgres", url, "--listen", "127.0.0.1:0"])
            #expect(child.waitForExit(timeout: .seconds(30)) != 0)
            #expect(!child.stderr.isEmpty)
            #expect(!child.stderr.contains("S3cret"), "\(url): \(child.stderr)")
        }

        let regions = try regionsDirectory([
            "a.yaml": "name: north\nredis: redis://alice:Redis%40S3cret@127.0.0.1:notaport/0\nbiomes: [1]\n"
        ])
        let gateway = try BiomeBusProcess(["gateway", "--regions", regions.path, "--listen", "127.0.0.1:0"])
        #expect(gateway.waitForExit() == 2)
        #expect(gateway.stderr.contains("a.yaml: redis:"), "\(gateway.stderr)")
        #expect(!gateway.stderr.contains("S3cret"), "\(gateway.stderr)")
    }
}
