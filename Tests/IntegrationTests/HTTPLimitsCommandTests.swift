import BusActivation
import BusConsumer
import BusHTTP
import BusLoop
import BusTesting
import Foundation
import Logging
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("HTTP limits of a service process: connection cap and the descriptor limit")
struct HTTPLimitsCommandTests {
    private func regions(redisPort: Int) throws -> URL {
        let directory = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-regions")
        try "name: north\nredis: redis://127.0.0.1:\(redisPort)/0\nbiomes: [1]\n".write(
            to: directory.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        return directory
    }

    /// Everything the peer sends until it closes.
    private func readAll(_ fd: Int32) -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            received.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Sends GET /healthz on a kept-alive connection and reads one response (head and body).
    private func keepAliveRequest(_ fd: Int32) -> String {
        _ = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n".withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let text = String(decoding: received, as: UTF8.self)
            if let head = text.range(of: "\r\n\r\n") {
                let length =
                    text[..<head.lowerBound].split(separator: "\r\n")
                    .first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if text.utf8.count - text.utf8.distance(from: text.startIndex, to: head.upperBound) >= length {
                    return text
                }
            }
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { return text }
            received.append(contentsOf: buffer[0..<count])
        }
    }

    /// User plus system CPU time of `pid`, in clock ticks.
    private func cpuTicks(_ pid: Int32) -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }

    @Test("BIOMEBUS_MAX_CONNECTIONS: the connection past the cap gets 503 too_many_connections and is closed")
    func capFromEnvironment() throws {
        let redis = try RedisServerProcess.temporary()
        let port = LoopbackPorts.freePort()
        let child = try BiomeBusProcess(
            ["gateway", "--regions", try regions(redisPort: redis.port).path, "--listen", "127.0.0.1:\(port)"],
            environment: ["BIOMEBUS_MAX_CONNECTIONS": "3"])
        #expect(child.waitForLog("gateway listening"), "\(child.stderr)")
        // Three connections, each known to the gateway: it answered a keep-alive request on it.
        let held = (0..<3).compactMap { _ in try? LoopbackPorts.connect(port: port, timeout: 5) }
        defer { for fd in held { close(fd) } }
        #expect(held.count == 3)
        for fd in held { #expect(keepAliveRequest(fd).hasPrefix("HTTP/1.1 200 ")) }
        let extra = try #require(try? LoopbackPorts.connect(port: port, timeout: 5))
        defer { close(extra) }
        let refused = readAll(extra)
        #expect(refused.hasPrefix("HTTP/1.1 503 "), "\(refused)")
        #expect(refused.contains(#""code":"too_many_connections""#), "\(refused)")
        #expect(refused.contains("Retry-After: 1"))
        // The three are still served.
        for fd in held { #expect(keepAliveRequest(fd).hasPrefix("HTTP/1.1 200 ")) }

        let bad = try BiomeBusProcess(
            ["gateway", "--regions", try regions(redisPort: redis.port).path, "--listen", "127.0.0.1:0"],
            environment: ["BIOMEBUS_MAX_CONNECTIONS": "0"])
        #expect(bad.waitForExit() == 2)
        #expect(bad.stderr.contains("BIOMEBUS_MAX_CONNECTIONS: expected an integer of at least 1"), "\(bad.stderr)")
    }

    @Test("at the descriptor limit the gateway pauses accepting instead of spinning, and serves again after")
    func descriptorLimit() async throws {
        let redis = try await RedisServerProcess.temporary()
        let port = LoopbackPorts.freePort()
        let regions = try regions(redisPort: redis.port)
        // A cap above the descriptor limit, so that accept() itself fails with EMFILE.
        var environment = ProcessInfo.processInfo.environment
        environment["BIOMEBUS_MAX_CONNECTIONS"] = "1000"
        let log = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-emfile").appendingPathComponent("stderr")
        let child = try ChildProcess(
            name: "biomebus", executable: "/bin/sh",
            arguments: [
                "-c",
                "ulimit -n 32; exec \"$0\" gateway --regions \"$1\" --listen 127.0.0.1:\(port) --threads 1",
                BiomeBusProcess.executablePath, regions.path,
            ],
            logFile: log, environment: environment)
        defer { child.stop() }
        #expect(
            await Polling.waitUntilAsync {
                (try? PlainHTTPClient.request(port: port, method: "GET", path: "/healthz").status) == 200
            })

        // More connections than descriptors: the kernel completes them all (backlog), the
        // gateway can accept only some.
        let clients = (0..<48).compactMap { _ in try? LoopbackPorts.connect(port: port, timeout: 5) }
        #expect(clients.count == 48)
        // Two seconds at the limit. A loop that keeps retrying accept() burns them on CPU, and
        // libevent logs each failed retry; a paused one wakes every 100 ms. 50 ticks (0.5 s at
        // 100 Hz) leaves room for a busy machine.
        let before = cpuTicks(child.pid)
        try await Task.sleep(for: .seconds(2))
        let spent = cpuTicks(child.pid) - before
        #expect(spent < 50, "the gateway spent \(spent) ticks in two seconds at the descriptor limit")
        let retries = (try? String(contentsOf: log, encoding: .utf8))?.components(separatedBy: "Error from accept()")
        #expect((retries?.count ?? 1) - 1 == 0, "libevent retried accept() in a loop")
        for fd in clients { close(fd) }

        let metrics = try PlainHTTPClient.request(port: port, method: "GET", path: "/metrics").text
        let errors = metrics.split(separator: "\n").first { $0.hasPrefix("biomebus_http_accept_errors_total ") }
            .flatMap { Int($0.split(separator: " ")[1]) }
        #expect(errors.map { $0 >= 1 && $0 < 200 } == true, "\(metrics)")
        #expect(try PlainHTTPClient.request(port: port, method: "GET", path: "/healthz").status == 200)
    }

    @Test("activation and a consumer's admin listener refuse an address another process listens on")
    func otherServicesRefuseATakenPort() throws {
        // A plain listener without SO_REUSEPORT, standing for "another process".
        let (fd, port) = LoopbackPorts.listener()
        defer { close(fd) }
        let taken = ListenAddress(host: "127.0.0.1", port: port)
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

        let database = try TestDatabase(on: try PostgresCluster.shared())
        #expect(throws: BindError.self) {
            _ = try ActivationService(
                configuration: ActivationService.Configuration(postgresURL: database.url, listen: taken, threads: 2),
                logger: logger)
        }
        let redis = try RedisServerProcess.temporary()
        let region = ConsumerHarness.region(redis: redis, biomes: [7])
        var consumer = ConsumerService.Configuration(
            region: region, biomes: region.biomes, consumerName: "taken", postgresURL: database.url)
        consumer.admin = taken
        #expect(throws: BindError.self) { _ = try ConsumerService(configuration: consumer, logger: logger) }
    }
}
