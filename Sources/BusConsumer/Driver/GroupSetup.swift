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
