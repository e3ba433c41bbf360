import BusDomain
import BusRegions
import BusTesting
import Foundation
import Synchronization
import Testing

/// The contract's promise for a Sentinel region with `replicas: 1`, through a real gateway and
/// consumer: the master SIGKILLed under steady spawns loses no spawn that got 202.
@Suite("Sentinel region through the gateway and a consumer: the failover promise", .serialized)
struct SentinelPromiseTests {
    /// One spawn's answer, as the spawning thread saw it.
    private struct Answer: Sendable {
        let chestID: String
        let status: Int
        let code: String?
        /// The stream entry id of a 202.
        let entryID: String?
        let sent: ContinuousClock.Instant
        let answered: ContinuousClock.Instant
    }

    /// Spawns one after another on a thread of its own until stopped.
    private final class Spawner: Sendable {
        let answers = Mutex<[Answer]>([])
        private let stopping = Atomic(false)
        private let finished = DispatchSemaphore(value: 0)

        init(port: Int) {
            let thread = Thread { [self] in
                var index = 0
                let clock = ContinuousClock()
                while !stopping.load(ordering: .relaxed) {
                    let chestID = "p-\(index)"
                    index += 1
                    let sent = clock.now
                    let body = #"{"biome_id": 1, "type": "chest", "coords": [1, 2], "chest_id": "\#(chestID)"}"#
                    let response = try? PlainHTTPClient.spawn(port: port, body)
                    let answer = Answer(
                        chestID: chestID, status: response?.status ?? 0, code: response?.errorCode,
                        entryID: response?.status == 202 ? response?.json["id"] as? String : nil, sent: sent,
                        answered: clock.now)
                    answers.withLock { $0.append(answer) }
                    // Steady, not flat out: the refusals of the failover window come back at once.
                    Thread.sleep(forTimeInterval: 0.001)
                }
                finished.signal()
            }
            thread.start()
        }

        func stop() {
            stopping.store(true, ordering: .relaxed)
            finished.wait()
        }

        var accepted: [Answer] { answers.withLock { $0.filter { $0.status == 202 } } }
    }

    @Test("replicas: 1, master SIGKILLed: no 202 lost, 202s again within 3 s, every chest materialized once")
    func promise() async throws {
        // Two replicas: after the promotion the new master keeps one, which WAIT 1 needs.
        let cluster = try await SentinelCluster.start(replicas: 2)
        let database = try await TestDatabase(on: try PostgresCluster.shared())
        var region = ConsumerHarness.region(
            address: try RedisAddress(url: cluster.url), biomes: [1], claimIdleMs: 2000)
        region.stream.durability = StreamDurability(replicas: 1, timeoutMs: 500)
        let gateway = try GatewayHarness(regions: [region])
        let consumer = try ConsumerHarness(region: region, postgresURL: database.url)
        _ = consumer

        let spawner = Spawner(port: gateway.port)
        #expect(await Polling.waitUntilAsync(timeout: .seconds(20)) { spawner.accepted.count >= 200 })
        let clock = ContinuousClock()
        let oldPort = try await cluster.killMaster()
        let newPort = await cluster.waitForNewMaster(replacing: oldPort)
        let announced = clock.now
        let resumed = await Polling.waitUntilAsync(timeout: .seconds(10)) {
            spawner.accepted.contains { $0.sent > announced }
                && spawner.accepted.count(where: { $0.sent > announced }) >= 100
        }
        spawner.stop()
        let answers = spawner.answers.withLock { $0 }
        let newMasterPort = try #require(newPort, "Sentinels named no new master")
        #expect(resumed, "spawns did not get 202 again after the failover")

        let firstAfter = try #require(answers.first { $0.status == 202 && $0.sent > announced })
        #expect(firstAfter.answered - announced < .seconds(3), "202 again \(firstAfter.answered - announced) after")
        let slowest = answers.map { $0.answered - $0.sent }.max() ?? .zero
        #expect(slowest < .seconds(2), "a spawn took \(slowest): spawns must be answered, never hang")
        let refusals = Set(answers.filter { $0.status != 202 }.map { "\($0.status) \($0.code ?? "-")" })
        #expect(refusals.isSubset(of: ["503 region_unavailable", "503 region_degraded"]), "\(refusals)")
        #expect(answers.contains { $0.status == 503 }, "the failover went unnoticed")

        // No spawn that got 202 is missing from the new master's stream.
        let newMaster = try #require(cluster.server(port: newMasterPort))
        let present = Set(try newMaster.entries("EVSTREAM:1").map(\.id))
        let accepted = answers.filter { $0.status == 202 }
        let missing = accepted.filter { !present.contains($0.entryID ?? "") }
        #expect(missing.isEmpty, "\(missing.count) of \(accepted.count) accepted spawns lost: \(missing.prefix(5))")

        // The consumer carries on with its group on the new master: every accepted chest once.
        let acceptedIDs = Set(accepted.map(\.chestID))
        let materialized = await Polling.waitUntilAsync(timeout: .seconds(60)) {
            guard let rows = try? database.psql("SELECT string_agg(chest_id, ',') FROM treasure_chests") else {
                return false
            }
            return acceptedIDs.isSubset(of: Set(rows.split(separator: ",").map(String.init)))
        }
        #expect(materialized, "not every accepted chest reached Postgres")
        #expect(
            try database.psql("SELECT count(*) = count(DISTINCT chest_id) FROM treasure_chests") == "t")
        #expect(await Polling.waitUntilAsync(timeout: .seconds(30)) { (try? newMaster.pending("EVSTREAM:1")) == 0 })
    }
}
