import CLibEvent

/// A small per-owner random source for backoff jitter (SplitMix64), seeded from libevent's
/// secure generator.
///
/// Not for secrets. It exists because `SystemRandomNumberGenerator` is zero-sized: every
/// `&generator` of it, stored or temporary, is one shared address, and ThreadSanitizer reports
/// two loops drawing jitter at once as an access race. This one has state of its own, so each
/// connection draws from its own memory on its own loop.
package struct JitterRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    package init() {
        var seed: UInt64 = 0
        withUnsafeMutableBytes(of: &seed) { evutil_secure_rng_get_bytes($0.baseAddress, $0.count) }
        state = seed
    }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
