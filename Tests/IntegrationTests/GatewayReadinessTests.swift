import BusTesting
import Foundation
import Testing

/// The gateway's `/readyz` must agree with what it has just served, on whichever loop the
/// probe lands.
@Suite("Gateway readiness follows what is served", .serialized)
struct GatewayReadinessTests {
    @Test("Redis killed: the first 503 is followed at once by /readyz 503; restarted: the first 202 by /readyz 200")
    func readinessFollowsServedAnswers() throws {
        let redis = try RedisServerProcess.temporary()
        let harness = try GatewayHarness(
            regions: [GatewayHarness.region("north", redis: redis, biomes: [1])], threads: 2)
        let body = #"{"biome_id": 1, "type": "chest", "coords": [1, 2]}"#

        for cycle in 1...2 {
            let killing = BackgroundJob.run { redis.kill() }
            let down = try Self.firstAnswer(status: 503, port: harness.port, body: body)
            let probeDown = try PlainHTTPClient.request(port: harness.port, method: "GET", path: "/readyz")
            #expect(down != nil, "cycle \(cycle): no 503 after Redis was killed")
            #expect(down?.errorCode == "region_unavailable")
            #expect(probeDown.status == 503, "cycle \(cycle): /readyz \(probeDown.status) right after a 503")
            try killing.wait()

            let starting = BackgroundJob.run { try redis.start() }
            let up = try Self.firstAnswer(status: 202, port: harness.port, body: body)
            let probeUp = try PlainHTTPClient.request(port: harness.port, method: "GET", path: "/readyz")
            #expect(up != nil, "cycle \(cycle): no 202 after Redis restarted")
            #expect(probeUp.status == 200, "cycle \(cycle): /readyz \(probeUp.status) right after a 202")
            try starting.wait()
        }
    }

    /// Spawns until one answer has `status`; nil after 30 s.
    private static func firstAnswer(status: Int, port: Int, body: String) throws -> PlainHTTPResponse? {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let answer = try PlainHTTPClient.spawn(port: port, body)
            if answer.status == status { return answer }
        }
        return nil
    }
}
