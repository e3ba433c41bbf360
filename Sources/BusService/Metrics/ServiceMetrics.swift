import BusHTTP
import BusPostgres
import Metrics
import Prometheus

/// One service's metrics: a Prometheus registry behind the swift-metrics API, plus latency
/// histograms sharded per event loop.
///
/// Each service instance has its own registry (not the process-global `MetricsSystem`), so that
/// several services in one process (`biomebus up`, tests) each export only their own figures.
/// Counters and gauges are swift-prometheus's atomics: safe from any loop without a lock.
/// swift-prometheus histograms take a lock per observation, so request-path latencies go to a
/// `ShardedHistogram` instead: each loop writes its own atomics, a scrape sums them.
package final class ServiceMetrics: Sendable {
    package let registry: PrometheusCollectorRegistry
    package let factory: PrometheusMetricsFactory
    private let histograms: [ShardedHistogram]
    private let http: HTTPServerCounters?

    /// `http`, when given, is the service's HTTP servers' counters, exported with the rest.
    package init(histograms: [ShardedHistogram] = [], http: HTTPServerCounters? = nil) {
        registry = PrometheusCollectorRegistry()
        factory = PrometheusMetricsFactory(registry: registry)
        self.histograms = histograms
        self.http = http
    }

    /// The counter `name` with these labels. `help` is its one-line `# HELP` text: every call
    /// for one name must pass the same text (the registry traps on a mismatch).
    package func counter(_ name: String, help: String, _ dimensions: [(String, String)] = []) -> Metrics.Counter {
        // Made through the registry, not the swift-metrics factory, which has no way to pass help.
        let handler = registry.makeCounter(descriptor: Self.descriptor(name, help), labels: dimensions)
        return Metrics.Counter(label: name, dimensions: dimensions, handler: handler, factory: factory)
    }

    /// The gauge `name` with these labels; `help` as for `counter`.
    package func gauge(_ name: String, help: String, _ dimensions: [(String, String)] = []) -> Metrics.Recorder {
        let handler = registry.makeGauge(descriptor: Self.descriptor(name, help), labels: dimensions)
        return Metrics.Recorder(
            label: name, dimensions: dimensions, aggregate: false, handler: handler, factory: factory)
    }

    /// `name` is already the full metric name, so it goes whole into `metricName`.
    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// The Prometheus text exposition of everything registered.
    package func render() -> [UInt8] {
        var buffer = registry.emitToBuffer()
        for histogram in histograms { histogram.emit(into: &buffer) }
        if let http { buffer.append(contentsOf: http.prometheusText().utf8) }
        return buffer
    }
}

/// Help texts of metrics that more than one service exports.
package enum SharedMetricHelp {
    package static let poolConnections = "Postgres connections of the pool, by state (in_use or idle)."
    package static let poolWaiting = "Requests waiting for a Postgres connection of the pool."
}

extension ServiceMetrics {
    /// Records one Postgres pool's figures as gauges with these labels (activation and consumer
    /// export the same pool metrics).
    package func recordPool(_ pool: PostgresPool.Statistics, labels: [(String, String)]) {
        gauge(
            "biomebus_postgres_pool_connections", help: SharedMetricHelp.poolConnections, labels + [("state", "in_use")]
        )
        .record(pool.inUse)
        gauge(
            "biomebus_postgres_pool_connections", help: SharedMetricHelp.poolConnections, labels + [("state", "idle")]
        )
        .record(pool.idle)
        gauge("biomebus_postgres_pool_waiting", help: SharedMetricHelp.poolWaiting, labels).record(pool.waiting)
    }
}

extension ServiceMetrics {
    /// Counts one refusal of `service`'s admission (or a later auth check) in
    /// `biomebus_auth_refusals_total{service,reason}`; the reason is a short, bounded label.
    package func countAuthRefusal(service: String, reason: String) {
        counter(
            "biomebus_auth_refusals_total", help: "Requests refused by authentication or authorization, by reason.",
            [("service", service), ("reason", reason)]
        ).increment()
    }
}
