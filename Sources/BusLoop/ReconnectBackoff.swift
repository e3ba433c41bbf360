/// Capped exponential backoff with jitter for reconnecting to a server (Redis, Postgres).
package struct ReconnectBackoff: Sendable, Equatable {
    package var initial: Duration
    package var maximum: Duration

    package init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The ceiling of the delay before reconnect attempt `attempt` (0 = reconnect at once,
    /// after a working connection dropped).
    package func ceiling(attempt: Int) -> Duration {
        guard attempt > 0 else { return .zero }
        let doublings = min(attempt - 1, 30)
        let grown = initial * (1 << doublings)
        return min(grown, maximum)
    }

    /// A delay drawn uniformly from half the ceiling up to the ceiling, so that many clients
    /// losing the same server do not reconnect in lockstep.
    package func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = ceiling(attempt: attempt)
        guard ceiling > .zero else { return .zero }
        let fraction = Double.random(in: 0.5...1.0, using: &generator)
        return ceiling * fraction
    }
}
