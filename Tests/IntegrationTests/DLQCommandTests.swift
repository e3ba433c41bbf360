import BusTesting
import Foundation
import Testing

@Suite("biomebus dlq")
struct DLQCommandTests {
    @Test("list shows dead letters with their error; replay moves them back into the stream, once")
    func listAndReplay() throws {
        let redis = try RedisServerProcess.temporary()
        let directory = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-dlq")
        try "name: north\nredis: \(redis.url)\nbiomes: [9]\n".write(
            to: directory.appendingPathComponent("north.yaml"), atomically: true, encoding: .utf8)
        for index in 0..<3 {
            try redis.cli(
                "XADD", "EVDLQ:9", "*", "type", "chest", "coords", "[1,2]", "chest_id", "c-\(index)", "ts", "1",
                "source_id", "1-\(index)", "deliveries", "5", "error", "boom \(index)")
        }

        let list = try BiomeBusProcess(["dlq", "list", "--regions", directory.path, "--biome", "9"])
        #expect(list.waitForExit() == 0, "\(list.stderr)")
        let lines = try String(contentsOf: list.stdoutFile, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["error"] as? String == "boom 0")
        #expect(first["deliveries"] as? Int == 5)
        #expect((first["fields"] as? [String: String])?["chest_id"] == "c-0")
        #expect((first["fields"] as? [String: String])?["source_id"] == nil)

        let firstID = try #require(first["id"] as? String)
        let one = try BiomeBusProcess(["dlq", "replay", "--regions", directory.path, "--biome", "9", "--id", firstID])
        #expect(one.waitForExit() == 0)
        #expect(try redis.streamLength("EVDLQ:9") == 2)
        #expect(
            try redis.entries("EVSTREAM:9").map { $0.fields } == [
                ["type": "chest", "coords": "[1,2]", "chest_id": "c-0", "ts": "1"]
            ])

        let rest = try BiomeBusProcess(["dlq", "replay", "--regions", directory.path, "--biome", "9"])
        #expect(rest.waitForExit() == 0)
        #expect(try redis.streamLength("EVDLQ:9") == 0)
        #expect(try redis.streamLength("EVSTREAM:9") == 3)

        let unknown = try BiomeBusProcess(["dlq", "list", "--regions", directory.path, "--biome", "10"])
        #expect(unknown.waitForExit() == 2)
        #expect(unknown.stderr.contains("belongs to no region"))
    }
}
