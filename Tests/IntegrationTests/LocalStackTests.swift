import BusTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// Serialized: each run starts its own Redis on 6379 or the next free port, and two stacks
// starting at once could both pick the same one.
@Suite("biomebus up: the whole stack in one command", .serialized)
struct LocalStackTests {
    @Test("start, post a spawn, see the chest, activate it; Ctrl-C stops every child and frees the ports")
    func endToEnd() async throws {
        let data = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-up")
        defer { try? FileManager.default.removeItem(at: data) }
        let gatewayPort = LoopbackPorts.freePort()
        let activationPort = LoopbackPorts.freePort()
        let stack = try BiomeBusProcess([
            "up", "--data-dir", data.path, "--listen", "127.0.0.1:\(gatewayPort)", "--activation-listen",
            "127.0.0.1:\(activationPort)", "--summary-every", "0",
        ])
        let up = await Polling.waitUntilAsync(timeout: .seconds(90)) {
            (try? String(contentsOf: stack.stdoutFile, encoding: .utf8))?.contains("BiomeBus is up") == true
        }
        try #require(up, "stderr: \(stack.stderr)")
        let welcome = try String(contentsOf: stack.stdoutFile, encoding: .utf8)
        #expect(welcome.contains("http://127.0.0.1:\(gatewayPort)"))

        let spawn = try PlainHTTPClient.spawn(
            port: gatewayPort, #"{"biome_id": 53, "type": "chest", "coords": [1.5, 2.0, 3.25], "chest_id": "e2e-1"}"#)
        #expect(spawn.status == 202)
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(10)) {
                (try? PlainHTTPClient.request(port: activationPort, method: "GET", path: "/v1/treasure/53/chests/e2e-1"))?
                    .headers["etag"] == #""1""#
            })
        let opened = try PlainHTTPClient.request(
            port: activationPort, method: "POST", path: "/v1/treasure/53/chests/e2e-1/activate",
            headers: ["If-Match": #""1""#, "Content-Type": "application/json"],
            body: Array(#"{"player_id": "p-1"}"#.utf8))
        #expect(opened.status == 200)
        #expect(opened.json["activated_by"] as? String == "p-1")

        // The servers it started, found by their data directory.
        let children = try ProcessTools.run("/usr/bin/pgrep", ["-f", data.path]).split(separator: "\n")
        #expect(children.count >= 2, "redis-server and postgres run under \(data.path)")

        stack.signal(SIGINT)
        #expect(await stack.waitForExit(timeout: .seconds(60)) == 0, "\(stack.stderr)")
        let left = (try? ProcessTools.run("/usr/bin/pgrep", ["-f", data.path])) ?? ""
        #expect(left.isEmpty, "still running: \(left)")
        for port in [gatewayPort, activationPort] {
            #expect((try? PlainHTTPClient.request(port: port, method: "GET", path: "/healthz", timeout: 1)) == nil)
        }
        #expect(stack.stderr.contains("local stack stopped"))
    }

    @Test("up --auth FILE: a spawn without a token is 401, with a token from auth new-client 202; the welcome says so")
    func withAuth() async throws {
        let data = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-up-auth")
        defer { try? FileManager.default.removeItem(at: data) }
        let minted = try BiomeBusProcess(["auth", "new-client", "--name", "local-gs"])
        #expect(await minted.waitForExit() == 0, "\(minted.stderr)")
        let lines = try String(contentsOf: minted.stdoutFile, encoding: .utf8).split(separator: "\n").map(String.init)
        let token = try #require(lines.first)
        let authFile = data.appendingPathComponent("auth.yaml")
        try ("spawn:\n  clients:\n" + lines.dropFirst().map { "    " + $0 }.joined(separator: "\n") + "\n").write(
            to: authFile, atomically: true, encoding: .utf8)

        let gatewayPort = LoopbackPorts.freePort()
        let stack = try BiomeBusProcess([
            "up", "--data-dir", data.appendingPathComponent("stack").path, "--listen", "127.0.0.1:\(gatewayPort)",
            "--activation-listen", "127.0.0.1:\(LoopbackPorts.freePort())", "--summary-every", "0", "--auth",
            authFile.path,
        ])
        let up = await Polling.waitUntilAsync(timeout: .seconds(90)) {
            (try? String(contentsOf: stack.stdoutFile, encoding: .utf8))?.contains("BiomeBus is up") == true
        }
        try #require(up, "stderr: \(stack.stderr)")
        let welcome = try String(contentsOf: stack.stdoutFile, encoding: .utf8)
        #expect(welcome.contains("Auth is on (\(authFile.path))"), "\(welcome)")
        #expect(welcome.contains("Authorization: Bearer $TOKEN") && welcome.contains("biomebus auth new-client"))
        #expect(!stack.stderr.contains("running open"), "\(stack.stderr)")

        let body = Array(#"{"biome_id": 53, "type": "chest", "coords": [1, 2], "chest_id": "auth-1"}"#.utf8)
        let json = ["Content-Type": "application/json"]
        let anonymous = try PlainHTTPClient.request(
            port: gatewayPort, method: "POST", path: "/v1/spawn", headers: json, body: body)
        #expect(anonymous.status == 401, "\(anonymous.text)")
        let wrong = try PlainHTTPClient.request(
            port: gatewayPort, method: "POST", path: "/v1/spawn",
            headers: json.merging(["Authorization": "Bearer not-\(token)"]) { $1 }, body: body)
        #expect(wrong.status == 401, "\(wrong.text)")
        let admitted = try PlainHTTPClient.request(
            port: gatewayPort, method: "POST", path: "/v1/spawn",
            headers: json.merging(["Authorization": "Bearer \(token)"]) { $1 }, body: body)
        #expect(admitted.status == 202, "\(admitted.text)")

        stack.signal(SIGINT)
        #expect(await stack.waitForExit(timeout: .seconds(60)) == 0, "\(stack.stderr)")
    }
}
