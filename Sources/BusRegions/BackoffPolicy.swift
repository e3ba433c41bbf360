/// When a failed entry is retried: `initial_ms × multiplier^(attempt−1)`, capped at `max_ms`,
/// then spread by ± `jitter` (a share of the delay). The settings of a region file; the
/// consumer computes the delays (BusConsumer's `BackoffPolicy+Delay`).
public struct BackoffPolicy: Sendable, Equatable {
    public var initialMs = 100
    public var multiplier = 2.0
    public var maxMs = 8000
    public var jitter = 0.2

    public init(initialMs: Int = 100, multiplier: Double = 2.0, maxMs: Int = 8000, jitter: Double = 0.2) {
        self.initialMs = initialMs
        self.multiplier = multiplier
        self.maxMs = maxMs
        self.jitter = jitter
    }

    /// The longest a retry can wait, in whole milliseconds as the consumer schedules it:
    /// `max_ms × (1 + jitter)`. Region validation judges the timing rule by it.
    public var longestDelayMs: Int {
        Int((Double(maxMs) * (1 + jitter)).rounded())
    }
}
