/// Counters a consumer keeps for metrics and logs.
public struct ConsumerStatistics: Sendable, Equatable {
    public var handled = 0
    public var failed = 0
    public var retried = 0
    public var deadLettered = 0
    public var reclaimed = 0
    /// Pending ids whose entry had been trimmed from the stream (dropped from the pending list).
    public var trimmed = 0
    /// Gone consumers with nothing pending, removed from the group.
    public var consumersRemoved = 0
    /// Entries another consumer had claimed meanwhile (this one had stalled): left to it.
    public var lostOwnership = 0
    /// Total handler time, for the mean; the histogram lives in the metrics.
    public var handlerSecondsTotal = 0.0
}
