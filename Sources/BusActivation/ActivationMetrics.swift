import BusHTTP
import BusPostgres
import BusService
import Metrics

/// The activation service's metrics, shared by its loops (counters are atomics; latency is a
/// histogram sharded per loop).
final class ActivationMetrics: Sendable {
    let service: ServiceMetrics
    let duration: ShardedHistogram

    init(loops: Int, http: HTTPServerCounters) {
        duration = ShardedHistogram(
            name: "biomebus_activation_request_duration_seconds",
            help: "Time from receiving an activation API request to answering it.",
            buckets: ShardedHistogram.latencyBuckets, shards: loops)
        service = ServiceMetrics(histograms: [duration], http: http)
    }

    func requests(route: String, status: Int) -> Metrics.Counter {
        service.counter(
            "biomebus_activation_requests_total", help: "Activation API requests answered, by route and HTTP status.",
            [("route", route), ("status", String(status))])
    }

    /// Loop `index`'s request meter (every route, admin ones included, by route label).
    func requestMeter(loop index: Int) -> RequestMeter {
        RequestMeter(latency: duration.shard(index)) { [self] route, status in requests(route: route, status: status) }
    }

    /// One loop's pool, as gauges labelled by loop (pool figures are readable on their loop only).
    func publish(loop: Int, pool: PostgresPool.Statistics) {
        service.recordPool(pool, labels: [("loop", String(loop))])
    }
}
