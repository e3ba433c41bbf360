import BusAuth
import BusHTTP
import BusPostgres
import BusService
import Metrics

/// The activation service's metrics, shared by its loops (counters are atomics; latency is a
/// histogram sharded per loop).
final class ActivationMetrics: Sendable {
    let service: ServiceMetrics
    let requests: RequestMetrics

    init(loops: Int, http: HTTPServerCounters) {
        requests = RequestMetrics(
            counter: "biomebus_activation_requests_total",
            counterHelp: "Activation API requests answered, by route and HTTP status.", labelName: "route",
            duration: "biomebus_activation_request_duration_seconds",
            durationHelp: "Time from receiving an activation API request to answering it.", loops: loops)
        service = ServiceMetrics(histograms: [requests.duration], http: http)
        rateLimited = service.counter(
            "biomebus_activation_rate_limited_total",
            help: "Activations refused because the player's token bucket was empty (429).")
    }

    /// Activations refused with `429 rate_limited`.
    let rateLimited: Counter

    /// Counts an auth refusal (and a rate-limited activation in its own counter too).
    func refused(_ refusal: AuthRefusal) {
        service.countAuthRefusal(service: "activation", reason: refusal.metricReason)
        if case .rateLimited = refusal { rateLimited.increment() }
    }

    /// One loop's pool, as gauges labelled by loop (pool figures are readable on their loop only).
    func publish(loop: Int, pool: PostgresPool.Statistics) {
        service.recordPool(pool, labels: [("loop", String(loop))])
    }
}
