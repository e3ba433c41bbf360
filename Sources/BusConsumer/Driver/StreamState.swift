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

/// Whether the consumer group exists on every stream, as far as this consumer knows.
enum GroupSetup: Equatable {
    /// Not tried yet (waiting for the command connection).
    case unknown
    /// `XGROUP CREATE` is out for every stream; `failures`: rounds that failed before this one.
    case creating(failures: Int)
    /// Every group exists (created now, or BUSYGROUP: it existed already).
    case ready
    /// A round failed, or a read answered NOGROUP (the stream vanished): another round goes
    /// out after the backoff for `failures`.
    case retrying(failures: Int)
}
