import BusOps
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("biomebus gateway: the command's life cycle")
struct GatewayCommandTests {
    private func regionsDirectory(_ files: [String: String]) throws -> URL {
        let directory = try TestEnvironment.makeTemporaryDirectory(prefix: "biomebus-regions")
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
        let port = TestEnvironment.freePort()
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
        let redis = try RedisServer()
        let regions = try regionsDirectory(["a.yaml": "name: north\nredis: \(redis.url)\nbiomes: [1]\n"])
        let port = TestEnvironment.freePort()
        let child = try BiomeBusProcess(
            ["gateway", "--threads", "2"],
            environment: ["BIOMEBUS_REGIONS": regions.path, "BIOMEBUS_LISTEN": "127.0.0.1:\(port)"])
        #expect(child.waitForLog("gateway listening"), "\(child.stderr)")
        #expect(child.waitForLog("region up"), "\(child.stderr)")
        #expect(child.stderr.contains("address=127.0.0.1:\(port)"))
        let response = try TestHTTPClient.spawn(port: port, #"{"biome_id": 1, "type": "chest", "coords": [1, 2]}"#)
        #expect(response.status == 202)

        child.signal(SIGTERM)
        #expect(child.waitForExit() == 0)
        #expect(child.stderr.contains("gateway shutting down"))
        #expect(child.stderr.contains("gateway stopped"))
        #expect(portIsFree(port))
    }

    @Test("SIGINT while a request waits on a hung Redis still exits 0 within the drain timeout")
    func sigintWithRequestInFlight() throws {
        let redis = try RedisServer()
        let regions = try regionsDirectory(["a.yaml": "name: north\nredis: \(redis.url)\nbiomes: [1]\n"])
        let port = TestEnvironment.freePort()
        let child = try BiomeBusProcess([
            "gateway", "--regions", regions.path, "--listen", "127.0.0.1:\(port)", "--threads", "1",
        ])
        #expect(child.waitForLog("region up"), "\(child.stderr)")
        redis.pause()
        defer { redis.resume() }
        let inFlight = TestEnvironment.concurrently(1, width: 1) { _ in
            try TestHTTPClient.spawn(port: port, #"{"biome_id": 1, "type": "chest", "coords": [1, 2]}"#).status
        }
        child.signal(SIGINT)
        #expect(child.waitForExit() == 0)
        // The in-flight spawn got an answer (503 from the Redis timeout), not a dropped socket.
        #expect((try? inFlight[0].get()) == 503)
    }
}
