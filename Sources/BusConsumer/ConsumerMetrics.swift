import BusHTTP
import BusPostgres
import BusService

/// A consumer's metrics. Counters advance by the change since the last publish, so the
/// consumer's own statistics stay plain integers on its loop.
final class ConsumerMetrics {
    let service: ServiceMetrics
    let handlerDuration: ShardedHistogram
    private let region: String
    private var published = ConsumerStatistics()

    init(region: String, http: HTTPServerCounters) {
        self.region = region
        handlerDuration = ShardedHistogram(
            name: "biomebus_consumer_handler_duration_seconds", help: "Time the handler took per entry.",
            labels: [("region", region)], buckets: ShardedHistogram.latencyBuckets, shards: 1)
        service = ServiceMetrics(histograms: [handlerDuration], http: http)
    }

    func publish(_ statistics: ConsumerStatistics, inFlight: Int, pool: PostgresPool.Statistics) {
        let labels = [("region", region)]
        service.gauge("biomebus_consumer_in_flight", help: "Entries being handled now.", labels).record(inFlight)
        let counts: [(String, String, Int, Int)] = [
            (
                "biomebus_consumer_handled_total", "Entries handled and acknowledged.", statistics.handled,
                published.handled
            ),
            ("biomebus_consumer_failed_total", "Handler calls that failed.", statistics.failed, published.failed),
            (
                "biomebus_consumer_retried_total", "Entries scheduled for another delivery.", statistics.retried,
                published.retried
            ),
            (
                "biomebus_consumer_dead_lettered_total", "Entries moved to the dead-letter stream.",
                statistics.deadLettered, published.deadLettered
            ),
            (
                "biomebus_consumer_reclaimed_total", "Entries reclaimed from consumers that stopped.",
                statistics.reclaimed, published.reclaimed
            ),
            (
                "biomebus_consumer_trimmed_total", "Pending entries found trimmed from the stream and acknowledged.",
                statistics.trimmed, published.trimmed
            ),
            (
                "biomebus_consumer_lost_ownership_total", "Entries another consumer claimed while this one held them.",
                statistics.lostOwnership, published.lostOwnership
            ),
        ]
        for (name, help, now, before) in counts {
            service.counter(name, help: help, labels).increment(by: now - before)
        }
        published = statistics
        service.recordPool(pool, labels: labels)
    }
}
