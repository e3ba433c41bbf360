/// When a region's spawns are shed: from `memory_high_water` of Redis maxmemory up, until
/// memory falls back below the mark minus `hysteresis`, so the state does not flap.
enum MemoryGuard {
    static let hysteresis = 0.05

    /// The next shedding state; `ratio` is used/max (nil when Redis has no maxmemory or did not
    /// answer: then the connection's own state decides, not the guard).
    static func shedding(now isShedding: Bool, ratio: Double?, highWater: Double) -> Bool {
        guard let ratio else { return false }
        if isShedding { return ratio >= highWater - hysteresis }
        return ratio >= highWater
    }
}
