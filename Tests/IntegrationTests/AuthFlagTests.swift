import BusTesting
import Crypto
import Foundation
import Testing

/// `--auth FILE` on the commands: startup errors exit 2 naming file and key; without it, one
/// warning line; with it, the gateway refuses unauthenticated spawns and accepts a client token.
@Suite("biomebus gateway/activation --auth")
struct AuthFlagTests {
    private func directory(_ files: [String: String]) throws -> URL {
        let directory = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-auth")
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return directory
    }

    @Test("a bad auth file, or limits without --redis, exit 2 with one line naming file and key")
    func startupErrors() throws {
        let regions = try directory(["a.yaml": "name: north\nredis: redis://127.0.0.1:1/0\nbiomes: [1]\n"])
        let auth = try directory([
            "bad-hash.yaml": "spawn:\n  clients:\n    - name: gs-1\n      token_sha256: abc\n      regions: [north]\n",
            "bad-region.yaml":
                "spawn:\n  clients:\n    - name: gs-1\n      token_sha256: \(String(repeating: "a", count: 64))\n      regions: [south]\n",
            "secret": "an HS256 secret of at least thirty-two bytes",
            "limits.yaml":
                "players:\n  issuer: i\n  audience: biomebus\n  hs256_secret_file: secret\n  limits:\n    activations: { per_second: 2.0, burst: 5 }\n",
        ])
        for (file, key) in [("bad-hash.yaml", "token_sha256"), ("bad-region.yaml", "regions")] {
            let path = auth.appendingPathComponent(file).path
            let run = try BiomeBusProcess([
                "gateway", "--regions", regions.path, "--listen", "127.0.0.1:0", "--auth", path,
            ])
            #expect(run.waitForExit() == 2, "\(file)")
            let lines = run.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(path) && lines[0].contains(key), "\(run.stderr)")
        }
        let missing = try BiomeBusProcess(
            ["gateway", "--regions", regions.path, "--listen", "127.0.0.1:0"],
            environment: ["BIOMEBUS_AUTH": "/nonexistent/auth.yaml"])
        #expect(missing.waitForExit() == 2)
        #expect(missing.stderr.contains("/nonexistent/auth.yaml"))
        let limits = auth.appendingPathComponent("limits.yaml").path
        let noRedis = try BiomeBusProcess([
            "activation", "--postgres", "postgresql://postgres@127.0.0.1:1/x", "--listen", "127.0.0.1:0", "--auth",
            limits,
        ])
        #expect(noRedis.waitForExit() == 2)
        #expect(noRedis.stderr.contains("--redis") && noRedis.stderr.contains(limits), "\(noRedis.stderr)")
    }

    @Test("open without --auth (one warning line); with it, 401 without a token and source in the entry")
    func gatewayFlag() throws {
        let redis = try RedisServerProcess.temporary()
        let regions = try directory(["a.yaml": "name: north\nredis: \(redis.url)\nbiomes: [1]\n"])
        let open = try BiomeBusProcess([
            "gateway", "--regions", regions.path, "--listen", "127.0.0.1:\(LoopbackPorts.freePort())",
        ])
        #expect(open.waitForLog("running open"), "\(open.stderr)")
        #expect(open.stderr.split(separator: "\n").filter { $0.contains("running open") }.count == 1, "\(open.stderr)")

        let token = "tok-" + UUID().uuidString
        let hash = SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
        let auth = try directory([
            "auth.yaml":
                "spawn:\n  clients:\n    - name: gs-north\n      token_sha256: \(hash)\n      regions: [north]\n"
        ])
        let port = LoopbackPorts.freePort()
        let closed = try BiomeBusProcess(
            ["gateway", "--regions", regions.path, "--listen", "127.0.0.1:\(port)"],
            environment: ["BIOMEBUS_AUTH": auth.appendingPathComponent("auth.yaml").path])
        #expect(closed.waitForLog("gateway listening"), "\(closed.stderr)")
        #expect(!closed.stderr.contains("running open"))
        let body = Array(#"{"biome_id": 1, "type": "chest", "coords": [1, 2]}"#.utf8)
        let refused = try PlainHTTPClient.request(
            port: port, method: "POST", path: "/v1/spawn", headers: ["Content-Type": "application/json"], body: body)
        #expect(refused.status == 401)
        let accepted = try PlainHTTPClient.request(
            port: port, method: "POST", path: "/v1/spawn",
            headers: ["Content-Type": "application/json", "Authorization": "Bearer \(token)"], body: body)
        #expect(accepted.status == 202)
        #expect(try redis.entries("EVSTREAM:1").map { $0.fields["source"] } == ["gs-north"])
        #expect(!closed.stderr.contains(token), "logs never contain a token")
    }
}
