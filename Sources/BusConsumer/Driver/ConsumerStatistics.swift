/// Counters a consumer keeps for metrics and logs.
package struct ConsumerStatistics: Sendable, Equatable {
    package var handled = 0
    package var failed = 0
    package var retried = 0
    package var deadLettered = 0
    package var reclaimed = 0
    /// Pending ids whose entry had been trimmed from the stream (dropped from the pending list).
    package var trimmed = 0
    /// Gone consumers with nothing pending, removed from the group.
    package var consumersRemoved = 0
    /// Entries another consumer had claimed meanwhile (this one had stalled): left to it.
    package var lostOwnership = 0
    /// Total handler time, for the mean; the histogram lives in the metrics.
    package var handlerSecondsTotal = 0.0
}
