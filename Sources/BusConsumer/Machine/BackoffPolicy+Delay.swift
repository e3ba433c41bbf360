import BusRegions

extension BackoffPolicy {
    /// The delay before retry number `attempt` (1 = after the first failure), without jitter.
    func baseDelayMs(attempt: Int) -> Double {
        let exponent = Double(max(attempt, 1) - 1)
        return min(Double(initialMs) * Self.power(multiplier, exponent), Double(maxMs))
    }

    /// The delay with jitter; `unit` is a random draw from -1 ... 1 (-1 shortest, 1 longest).
    func delayMs(attempt: Int, unit: Double) -> Double {
        let base = baseDelayMs(attempt: attempt)
        let clamped = min(max(unit, -1), 1)
        return max(0, base * (1 + jitter * clamped))
    }

    /// The delay with jitter drawn from `generator`.
    func delayMs(attempt: Int, using generator: inout some RandomNumberGenerator) -> Double {
        delayMs(attempt: attempt, unit: Double.random(in: -1...1, using: &generator))
    }

    private static func power(_ base: Double, _ exponent: Double) -> Double {
        // Repeated multiplication keeps Foundation out; stop once past any cap.
        var result = 1.0
        var remaining = Int(exponent)
        while remaining > 0 && result < 1e12 {
            result *= base
            remaining -= 1
        }
        return result
    }
}
