import BusRegions
import Testing

@testable import BusConsumer

@Suite("BackoffPolicy")
struct BackoffPolicyTests {
    @Test("initial × multiplier^(attempt−1), capped at max")
    func schedule() {
        let policy = BackoffPolicy(initialMs: 100, multiplier: 2, maxMs: 8000, jitter: 0.2)
        #expect((1...9).map { policy.baseDelayMs(attempt: $0) } == [100, 200, 400, 800, 1600, 3200, 6400, 8000, 8000])
        #expect(policy.baseDelayMs(attempt: 10_000) == 8000)
    }

    @Test("jitter spreads the delay by ± its share")
    func jitter() {
        let policy = BackoffPolicy(initialMs: 100, multiplier: 2, maxMs: 8000, jitter: 0.2)
        #expect(policy.delayMs(attempt: 3, unit: -1) == 320)
        #expect(policy.delayMs(attempt: 3, unit: 0) == 400)
        #expect(policy.delayMs(attempt: 3, unit: 1) == 480)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            let delay = policy.delayMs(attempt: 2, using: &generator)
            #expect(delay >= 160 && delay <= 240)
        }
    }

    @Test("a multiplier of 1 keeps the delay flat")
    func flat() {
        let policy = BackoffPolicy(initialMs: 250, multiplier: 1, maxMs: 10_000, jitter: 0)
        #expect(policy.baseDelayMs(attempt: 7) == 250)
    }
}
