extension PostgresPool {
    /// Splits a process-wide connection budget over event loops, one pool per loop.
    ///
    /// Returns one share per loop that gets at least one connection, largest first, summing to
    /// `total`: `(8, 2)` → `[4, 4]`, `(5, 2)` → `[3, 2]`, `(2, 4)` → `[1, 1]`. When `total` is
    /// smaller than `loops` the result has `total` entries, and the caller runs that many loops
    /// (a loop without a connection could only fail its requests).
    package static func shares(total: Int, loops: Int) -> [Int] {
        precondition(total >= 1, "the connection budget must be at least 1")
        precondition(loops >= 1, "there must be at least one loop")
        let count = min(total, loops)
        let base = total / count
        let remainder = total % count
        return (0..<count).map { base + ($0 < remainder ? 1 : 0) }
    }
}
