import BusTesting
import Foundation
import Testing

/// `/readyz` must agree with what the service has just served: it follows the pools' latest
/// outcome the moment a loop sees it, on whichever loop the probe lands.
@Suite("Activation readiness follows what is served", .serialized)
struct ActivationReadinessTests {
    @Test("Postgres stopped: the first 503 is followed at once by /readyz 503; restarted: the first 200 by /readyz 200")
    func readinessFollowsServedAnswers() throws {
        let server = try PostgresCluster.forTest()
        let database = try TestDatabase(on: server)
        try database.psql(
            """
            INSERT INTO treasure_chests (biome_id, chest_id, type, coords)
            SELECT 53, 'r-' || i, 'chest', '{1.5,2}' FROM generate_series(0, 999) i
            """)
        // Two loops with two connections each: the probe and the activation may land on
        // different loops, which is what the process-wide signal is for.
        let harness = try ActivationHarness(postgresURL: database.url, poolSize: 4, threads: 2)
        var next = 0

        for cycle in 1...2 {
            // Activations run continuously while Postgres stops, so the first 503 is the first
            // moment the service knows; the probe goes out as soon as that answer is read.
            let stopping = BackgroundJob.run { server.stop() }
            let down = try Self.firstAnswer(status: 503, harness: harness, next: &next)
            let probeDown = try harness.get("/readyz")
            #expect(down != nil, "cycle \(cycle): no 503 while Postgres stopped")
            #expect(down?.errorCode == "database_unavailable")
            #expect(probeDown.status == 503, "cycle \(cycle): /readyz \(probeDown.status) right after a 503")
            try stopping.wait()

            let starting = BackgroundJob.run { try server.start() }
            let up = try Self.firstAnswer(status: 200, harness: harness, next: &next)
            let probeUp = try harness.get("/readyz")
            #expect(up != nil, "cycle \(cycle): no 200 after Postgres restarted")
            #expect(probeUp.status == 200, "cycle \(cycle): /readyz \(probeUp.status) right after a 200")
            try starting.wait()
        }
    }

    /// Activates chests until one answer has `status`; nil after 30 s. A chest is retried
    /// while it gets 503 and left behind once it got anything else.
    private static func firstAnswer(status: Int, harness: ActivationHarness, next: inout Int) throws
        -> PlainHTTPResponse?
    {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let answer = try harness.activate(chest: "r-\(next)", ifMatch: #""1""#)
            if answer.status != 503 { next += 1 }
            if answer.status == status { return answer }
        }
        return nil
    }
}

/// One background job's outcome.
final class BackgroundJob: @unchecked Sendable {
    // @unchecked Sendable: `result` is guarded by `condition`.
    private let condition = NSCondition()
    private var result: Result<Void, any Error>?

    /// Runs `body` on its own thread; `wait()` joins it and rethrows its error.
    static func run(_ body: @escaping @Sendable () throws -> Void) -> BackgroundJob {
        let job = BackgroundJob()
        Thread.detachNewThread { job.finish(Result { try body() }) }
        return job
    }

    func finish(_ result: Result<Void, any Error>) {
        condition.withLock {
            self.result = result
            condition.broadcast()
        }
    }

    func wait() throws {
        let result = condition.withLock {
            while self.result == nil { condition.wait() }
            return self.result!
        }
        try result.get()
    }
}
