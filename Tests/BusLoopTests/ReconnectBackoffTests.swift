import BusLoop
import Testing

@Suite("ReconnectBackoff")
struct ReconnectBackoffTests {
    @Test("the ceiling doubles from the initial delay and stops at the maximum")
    func ceilingGrowsAndCaps() {
        let backoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(1))
        #expect(backoff.ceiling(attempt: 0) == .zero)
        #expect(backoff.ceiling(attempt: 1) == .milliseconds(100))
        #expect(backoff.ceiling(attempt: 2) == .milliseconds(200))
        #expect(backoff.ceiling(attempt: 4) == .milliseconds(800))
        #expect(backoff.ceiling(attempt: 5) == .seconds(1))
        #expect(backoff.ceiling(attempt: 1000) == .seconds(1))
    }

    @Test("the delay lies between half the ceiling and the ceiling")
    func delayIsJitteredWithinBounds() {
        let backoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(5))
        var system = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            let delay = backoff.delay(attempt: 3, using: &system)
            #expect(delay >= .milliseconds(200) && delay <= .milliseconds(400))
        }
        #expect(backoff.delay(attempt: 0, using: &system) == .zero)
    }

    @Test("each jitter source has its own seed and spreads over the whole range")
    func jitterSourcesDiffer() {
        var first = JitterRandom()
        var second = JitterRandom()
        let a = (0..<8).map { _ in first.next() }
        let b = (0..<8).map { _ in second.next() }
        #expect(a != b, "two connections must not back off in lockstep")
        let backoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(5))
        let delays = (0..<200).map { _ in backoff.delay(attempt: 3, using: &first) }
        #expect(delays.allSatisfy { $0 >= .milliseconds(200) && $0 <= .milliseconds(400) })
        #expect(delays.contains { $0 < .milliseconds(250) } && delays.contains { $0 > .milliseconds(350) })
    }
}
