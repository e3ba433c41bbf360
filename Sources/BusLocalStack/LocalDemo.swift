import BusDomain
import BusRegions
import BusTesting
import Foundation

/// `biomebus up --demo`: simulated players against the running stack. Servers spawn chests,
/// players wait until the chests can be read, then open them; every fourth chest is raced by
/// several players at once with the same ETag, and exactly one of them must win.
package enum LocalDemo {
    package struct Report: Sendable, CustomStringConvertible {
        package var spawned = 0
        /// Spawns the gateway acknowledged (202).
        package var accepted = 0
        /// Acknowledged spawns that never became a readable chest: must be 0.
        package var lost = 0
        package var activated = 0
        package var preconditionFailed = 0
        package var alreadyActivated = 0
        package var otherFailures = 0
        package var racedChests = 0
        /// Raced chests that did not end with exactly one winner: must be 0.
        package var racesWithoutExactlyOneWinner = 0

        package var description: String {
            """
            demo: \(spawned) spawns, \(accepted) accepted (202), \(lost) lost
            demo: activations: \(activated) won (200), \(preconditionFailed) lost the race (412), \
            \(alreadyActivated) already activated (409), \(otherFailures) other failures
            demo: \(racedChests) chests raced by several players, \(racedChests - racesWithoutExactlyOneWinner) with exactly one winner
            demo: \(lost == 0 && racesWithoutExactlyOneWinner == 0 && otherFailures == 0 ? "OK" : "FAILED")
            """
        }
    }

    package static func run(
        gatewayPort: Int, activationPort: Int, catalog: RegionCatalog, chests: Int = 200, racers: Int = 5
    ) -> Report {
        var report = Report()
        let biomes = catalog.allBiomes.map(\.biome)
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let ids = (0..<chests).map { "demo-\(tag)-\($0)" }
        let biomeOfChest = (0..<chests).map { biomes[$0 % biomes.count].value }

        // 1. Game servers spawn the chests.
        let spawned = Concurrently.run(chests, width: 16) { index -> Bool in
            let body =
                #"{"biome_id": \#(biomeOfChest[index]), "type": "chest", "coords": [\#(index), 2.5], "chest_id": "\#(ids[index])"}"#
            let response = try? PlainHTTPClient.request(
                port: gatewayPort, method: "POST", path: "/v1/spawn", headers: ["Content-Type": "application/json"],
                body: Array(body.utf8))
            return response?.status == 202
        }
        report.spawned = chests
        report.accepted = spawned.filter { $0 }.count

        // 2. Players wait until each acknowledged chest can be read (consumers materialize it).
        let deadline = Date().addingTimeInterval(30)
        var readable = Array(repeating: false, count: chests)
        while Date() < deadline {
            let pending = (0..<chests).filter { spawned[$0] && !readable[$0] }
            if pending.isEmpty { break }
            let found = Concurrently.run(pending.count, width: 8) { position -> Bool in
                let index = pending[position]
                let path = "/v1/treasure/\(biomeOfChest[index])/chests/\(ids[index])"
                return (try? PlainHTTPClient.request(port: activationPort, method: "GET", path: path))?.status == 200
            }
            for (position, ok) in found.enumerated() where ok { readable[pending[position]] = true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        report.lost = (0..<chests).filter { spawned[$0] && !readable[$0] }.count

        // 3. Players open the chests; every fourth one is raced.
        for index in 0..<chests where readable[index] {
            let raced = index % 4 == 0
            let players = raced ? racers : 1
            let path = "/v1/treasure/\(biomeOfChest[index])/chests/\(ids[index])/activate"
            let statuses = Concurrently.run(players, width: players) { player -> Int in
                let body = Array(#"{"player_id": "player-\#(player)"}"#.utf8)
                let response = try? PlainHTTPClient.request(
                    port: activationPort, method: "POST", path: path,
                    headers: ["If-Match": #""1""#, "Content-Type": "application/json"], body: body)
                return response?.status ?? 0
            }
            report.activated += statuses.filter { $0 == 200 }.count
            report.preconditionFailed += statuses.filter { $0 == 412 }.count
            report.alreadyActivated += statuses.filter { $0 == 409 }.count
            report.otherFailures += statuses.filter { ![200, 409, 412].contains($0) }.count
            if raced {
                report.racedChests += 1
                if statuses.filter({ $0 == 200 }).count != 1 { report.racesWithoutExactlyOneWinner += 1 }
            }
        }
        return report
    }
}
