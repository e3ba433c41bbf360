/// When a failed entry is retried: `initial_ms × multiplier^(attempt−1)`, capped at `max_ms`,
/// then spread by ± `jitter` (a share of the delay). The settings of a region file; the
/// consumer computes the delays (BusConsumer's `BackoffPolicy+Delay`).
package struct BackoffPolicy: Sendable, Equatable {
    package var initialMs = 100
    package var multiplier = 2.0
    package var maxMs = 8000
    package var jitter = 0.2

    package init(initialMs: Int = 100, multiplier: Double = 2.0, maxMs: Int = 8000, jitter: Double = 0.2) {
        self.initialMs = initialMs
        self.multiplier = multiplier
        self.maxMs = maxMs
        self.jitter = jitter
    }

    /// The longest a retry can wait, in whole milliseconds as the consumer schedules it:
    /// `max_ms × (1 + jitter)`. Region validation judges the timing rule by it.
    package var longestDelayMs: Int {
        Int((Double(maxMs) * (1 + jitter)).rounded())
    }
}
