import BusDomain

/// What the driver keeps for one biome stream it reads.
struct StreamState {
    /// `EV:<biome>`.
    let key: String
    let biome: BiomeID
    /// Where the next XAUTOCLAIM continues, so that entries behind a long head of live pending
    /// entries are reached (XAUTOCLAIM scans at most 10 × COUNT ids per call).
    var claimCursor = "0-0"
    /// Ids acknowledged in this loop pass, sent as one `XACK` at the end of the pass.
    var acksDue: [String] = []

    init(biome: BiomeID) {
        self.key = StreamKey.events(biome)
        self.biome = biome
    }
}
