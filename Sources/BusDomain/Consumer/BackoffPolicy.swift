/// When a failed entry is retried: `initial_ms × multiplier^(attempt−1)`, capped at `max_ms`,
/// then spread by ± `jitter` (a share of the delay).
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

    /// The delay before retry number `attempt` (1 = after the first failure), without jitter.
    public func baseDelayMs(attempt: Int) -> Double {
        let exponent = Double(max(attempt, 1) - 1)
        return min(Double(initialMs) * Self.power(multiplier, exponent), Double(maxMs))
    }

    /// The delay with jitter; `unit` is a random draw from -1 ... 1 (-1 shortest, 1 longest).
    public func delayMs(attempt: Int, unit: Double) -> Double {
        let base = baseDelayMs(attempt: attempt)
        let clamped = min(max(unit, -1), 1)
        return max(0, base * (1 + jitter * clamped))
    }

    /// The longest a retry can wait, in whole milliseconds as the consumer schedules it:
    /// `max_ms × (1 + jitter)`.
    public var longestDelayMs: Int {
        Int((Double(maxMs) * (1 + jitter)).rounded())
    }

    /// The delay with jitter drawn from `generator`.
    public func delayMs(attempt: Int, using generator: inout some RandomNumberGenerator) -> Double {
        delayMs(attempt: attempt, unit: Double.random(in: -1...1, using: &generator))
    }

    private static func power(_ base: Double, _ exponent: Double) -> Double {
        // Repeated multiplication keeps Foundation out of the domain; stop once past any cap.
        var result = 1.0
        var remaining = Int(exponent)
        while remaining > 0 && result < 1e12 {
            result *= base
            remaining -= 1
        }
        return result
    }
}
