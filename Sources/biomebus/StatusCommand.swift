import ArgumentParser
import BusDomain
import BusOps
import Foundation

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Per biome: stream length, fill of MAXLEN, group pending / lag / consumers, region memory.",
        discussion:
            "Reads Redis directly. Exit status 0 when healthy, 1 when a row breaches a threshold or a region is down."
    )

    @OptionGroup var regions: RegionsOption

    @Flag(help: "Print the snapshot as JSON (the same as the gateway's GET /v1/regions).")
    var json = false

    @Flag(help: "Redraw every second until interrupted.")
    var watch = false

    func run() throws {
        var healthy = true
        try failingCleanly {
            let catalog = try regions.load(validation: .exceptConsumerTuning)
            let probe = StatusProbe(catalog: catalog)
            defer { probe.close() }
            var history: [RegionsSnapshot] = []
            repeat {
                let snapshot = probe.snapshot()
                let breaches = SnapshotHealth.breaches(snapshot, history: history)
                healthy = breaches.isEmpty
                history = Array((history + [snapshot]).suffix(HealthThresholds().lagGrowthSamples))
                let output = json ? snapshot.json(breaches: breaches) + "\n" : snapshot.table(breaches: breaches)
                // Clear the screen and go home before each redraw in watch mode.
                FileHandle.standardOutput.write(Data(((watch ? "\u{1B}[H\u{1B}[2J" : "") + output).utf8))
                if watch { Thread.sleep(forTimeInterval: 1) }
            } while watch
        }
        if !healthy { throw ExitCode(1) }
    }
}
