import BusTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("biomebus gateway: the command's life cycle")
struct GatewayCommandTests {
    private func regionsDirectory(_ files: [String: String]) throws -> URL {
        let directory = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-regions")
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return directory
    }

    private func portIsFree(_ port: Int) -> Bool {
        LoopbackPorts.isFree(port)
    }

    @Test("a bad region file exits non-zero with one line naming the file and key, before binding")
    func badConfig() throws {
        let regions = try regionsDirectory([
            "north.yaml": "name: north\nredis: redis://127.0.0.1:1/0\nbiomes: [1]\nstream: {maxlen: -5}\n"
        ])
        let port = LoopbackPorts.freePort()
        let child = try BiomeBusProcess(["gateway", "--regions", regions.path, "--listen", "127.0.0.1:\(port)"])
        #expect(child.waitForExit() == 2)
        let lines = child.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(child.stderr)")
        #expect(lines.first?.contains("north.yaml: stream.maxlen: expected an integer") == true, "\(child.stderr)")
        #expect(portIsFree(port))
    }

    @Test("bad flags and a missing regions directory fail cleanly")
    func badFlags() throws {
        let noRegions = try BiomeBusProcess(["gateway", "--listen", "127.0.0.1:0"])
        #expect(noRegions.waitForExit() == 2)
        #expect(noRegions.stderr.contains("--regions is required"))

        let regions = try regionsDirectory(["a.yaml": "name: a\nredis: redis://127.0.0.1:1/0\nbiomes: [1]\n"])
        let badListen = try BiomeBusProcess(["gateway", "--regions", regions.path, "--listen", "nowhere"])
        #expect(badListen.waitForExit() == 2)
        #expect(badListen.stderr.contains("--listen: expected HOST:PORT"))

        let badThreads = try BiomeBusProcess(["gateway", "--regions", regions.path, "--threads", "0"])
        #expect(badThreads.waitForExit() == 2)
        #expect(badThreads.stderr.contains("--threads"))

        let unknownFlag = try BiomeBusProcess(["gateway", "--regions", regions.path, "--bogus"])
        #expect(unknownFlag.waitForExit() == 2)
        #expect(unknownFlag.stderr == "biomebus: Unknown option '--bogus' (see --help)\n")

        let notANumber = try BiomeBusProcess(["gateway", "--regions", regions.path, "--threads", "many"])
        #expect(notANumber.waitForExit() == 2)
        #expect(notANumber.stderr.split(separator: "\n").count == 1)

        let empty = try regionsDirectory([:])
        let noFiles = try BiomeBusProcess(["gateway", "--regions", empty.path])
        #expect(noFiles.waitForExit() == 2)
        #expect(noFiles.stderr.contains("no region files"))
    }

    @Test("env fallbacks, lifecycle lines, and SIGTERM drains and exits 0")
    func lifecycleAndSigterm() throws {
        let redis = try RedisServerProcess.temporary()
        let regions = try regionsDirectory(["a.yaml": "name: north\nredis: \(redis.url)\nbiomes: [1]\n"])
        let port = LoopbackPorts.freePort()
        let child = try BiomeBusProcess(
            ["gateway", "--threads", "2"],
            environment: ["BIOMEBUS_REGIONS": regions.path, "BIOMEBUS_LISTEN": "127.0.0.1:\(port)"])
        #expect(child.waitForLog("gateway listening"), "\(child.stderr)")
        #expect(child.waitForLog("region up"), "\(child.stderr)")
        #expect(child.stderr.contains("address=127.0.0.1:\(port)"))
        let response = try PlainHTTPClient.spawn(port: port, #"{"biome_id": 1, "type": "chest", "coords": [1, 2]}"#)
        #expect(response.status == 202)

        child.signal(SIGTERM)
        #expect(child.waitForExit() == 0)
        #expect(child.stderr.contains("gateway shutting down"))
        #expect(child.stderr.contains("gateway stopped"))
        #expect(portIsFree(port))
    }

    @Test("SIGTERM while many spawns wait on a stalled Redis: every client gets its whole answer, exit 0")
    func sigtermWithRequestsInFlight() async throws {
        let redis = try await RedisServerProcess.temporary()
        let regions = try regionsDirectory(["a.yaml": "name: north\nredis: \(redis.url)\nbiomes: [1]\n"])
        let port = LoopbackPorts.freePort()
        let child = try BiomeBusProcess([
            "gateway", "--regions", regions.path, "--listen", "127.0.0.1:\(port)", "--threads", "2",
        ])
        #expect(await child.waitForLog("region up"), "\(child.stderr)")
        redis.pause()
        defer { redis.resume() }
        let clients = 32
        let requests = Concurrently.start(clients, width: clients) { _ in
            Result { try PlainHTTPClient.spawn(port: port, #"{"biome_id": 1, "type": "chest", "coords": [1, 2]}"#) }
        }
        // Every spawn has reached the gateway and waits on Redis (the scrape counts itself).
        let allWaiting = await Polling.waitUntilAsync {
            let text = (try? PlainHTTPClient.request(port: port, method: "GET", path: "/metrics").text) ?? ""
            return text.contains("biomebus_http_requests_in_flight \(clients + 1)\n")
        }
        #expect(allWaiting)
        child.signal(SIGTERM)
        // The replies all come at once when Redis answers again: the drain must write them all
        // before it closes the connections.
        #expect(await child.waitForLog("gateway shutting down"), "\(child.stderr)")
        redis.resume()
        let answers = await requests.wait()
        #expect(await child.waitForExit() == 0)
        for (index, answer) in answers.enumerated() {
            switch answer {
            case .success(let response):
                #expect([202, 503].contains(response.status), "client \(index): \(response.status)")
                let length = Int(response.headers["content-length"] ?? "")
                #expect(length != nil && response.body.count == length, "client \(index): a cut body")
                #expect((try? JSONSerialization.jsonObject(with: Data(response.body))) != nil, "client \(index)")
            case .failure(let error):
                Issue.record("client \(index) lost its answer: \(error)")
            }
        }
    }

    @Test("a second gateway on a port another one listens on exits non-zero with one line, before serving")
    func secondGatewayRefused() throws {
        let redis = try RedisServerProcess.temporary()
        let regions = try regionsDirectory(["a.yaml": "name: north\nredis: \(redis.url)\nbiomes: [1]\n"])
        let port = LoopbackPorts.freePort()
        let first = try BiomeBusProcess([
            "gateway", "--regions", regions.path, "--listen", "127.0.0.1:\(port)", "--threads", "2",
        ])
        #expect(first.waitForLog("gateway listening"), "\(first.stderr)")
        let second = try BiomeBusProcess([
            "gateway", "--regions", regions.path, "--listen", "127.0.0.1:\(port)", "--threads", "2",
        ])
        #expect(second.waitForExit() == 2)
        let lines = second.stderr.split(separator: "\n").filter { !$0.contains("gateway starting") }
        #expect(lines.count == 1, "\(second.stderr)")
        #expect(
            lines.first?.contains("cannot listen on 127.0.0.1:\(port): another process is already listening there")
                == true, "\(second.stderr)")
        #expect(!second.stderr.contains("gateway listening"))
        // The first keeps every connection.
        for _ in 0..<8 {
            #expect(try PlainHTTPClient.request(port: port, method: "GET", path: "/healthz").status == 200)
        }
        first.signal(SIGTERM)
        #expect(first.waitForExit() == 0)
    }
}
