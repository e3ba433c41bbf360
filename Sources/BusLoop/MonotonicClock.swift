#if canImport(Glibc)
    import Glibc
#endif

/// Cheap clock reads for deadlines (monotonic) and entry timestamps (wall clock).
package enum Clocks {
    /// Monotonic time in nanoseconds; only differences are meaningful.
    @inlinable
    package static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Wall-clock Unix time in milliseconds.
    @inlinable
    package static func unixMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
