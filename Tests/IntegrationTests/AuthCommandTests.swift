import BusAuth
import BusTesting
import Foundation
import Testing

@Suite("biomebus auth new-client")
struct AuthCommandTests {
    @Test("prints a fresh 256-bit URL-safe token and the clients: entry that admits it")
    func newClient() throws {
        var tokens: Set<String> = []
        for _ in 0..<2 {
            let run = try BiomeBusProcess([
                "auth", "new-client", "--name", "gs-emerald-1", "--regions", "emerald-coast,ruby",
            ])
            #expect(run.waitForExit() == 0, "\(run.stderr)")
            let output = try String(contentsOf: run.stdoutFile, encoding: .utf8)
            let lines = output.split(separator: "\n").map(String.init)
            let token = try #require(lines.first)
            #expect(Base64URL.decode(token)?.count == 32, "256 bits, base64url: \(token.count) characters")
            #expect(lines.dropFirst().allSatisfy { !$0.contains(token) }, "the entry holds only the hash")
            tokens.insert(token)

            let entry = lines.dropFirst().map { "    " + $0 }.joined(separator: "\n")
            let file = try AuthFile.parse(
                yaml: "spawn:\n  clients:\n" + entry, file: "auth.yaml", regionNames: ["emerald-coast", "ruby"],
                readFile: { _ in [] })
            let client = try SpawnAuthenticator(policy: try #require(file.spawn))
                .admit(authorization: "Bearer " + token).get()
            #expect(client.name == "gs-emerald-1" && client.regions == .only(["emerald-coast", "ruby"]))
        }
        #expect(tokens.count == 2, "each run makes a new token")
    }

    @Test("without --regions the entry allows every region; a bad name is a one-line error, exit 2")
    func defaultsAndErrors() throws {
        let all = try BiomeBusProcess(["auth", "new-client", "--name", "gs-all"])
        #expect(all.waitForExit() == 0)
        #expect(try String(contentsOf: all.stdoutFile, encoding: .utf8).contains(#"regions: ["*"]"#))
        let bad = try BiomeBusProcess(["auth", "new-client", "--name", "GS_1"])
        #expect(bad.waitForExit() == 2)
        #expect(bad.stderr.contains("--name"))
        let badRegion = try BiomeBusProcess(["auth", "new-client", "--name", "gs-1", "--regions", "ok,Not Ok"])
        #expect(badRegion.waitForExit() == 2)
        #expect(badRegion.stderr.contains("--regions"))
    }
}
