import BusLoop
import Metrics
import Testing

@testable import BusService

@Suite("RequestMeter")
struct RequestMeterTests {
    @Test("one counter per (label, status), made on first use and reused; each request is counted and timed")
    func countersAreCached() {
        let metrics = ServiceMetrics()
        let histogram = ShardedHistogram(name: "test_seconds", help: "Test.", buckets: [1, 10], shards: 2)
        var made: [String] = []
        let meter = RequestMeter(latency: histogram.shard(1)) { label, status in
            made.append("\(label) \(status)")
            return metrics.counter(
                "test_requests_total", help: "Requests.", [("label", label), ("status", String(status))])
        }
        let started = Clocks.monotonicNanoseconds()
        meter.record(label: "53", status: 202, started: started)
        meter.record(label: "53", status: 202, started: started)
        meter.record(label: "53", status: 503, started: started)
        meter.record(label: "none", status: 400, started: started)
        // Back to earlier pairs: each still counts on its own counter.
        meter.record(label: "53", status: 202, started: started)
        meter.record(label: "53", status: 503, started: started)
        meter.record(label: "5", status: 3202, started: started)
        #expect(made == ["53 202", "53 503", "none 400", "5 3202"])
        #expect(meter.cachedCounters == 4)
        let text = String(decoding: metrics.render(), as: UTF8.self)
        #expect(text.contains(#"test_requests_total{label="53",status="202"} 3"#))
        #expect(text.contains(#"test_requests_total{label="53",status="503"} 2"#))
        #expect(text.contains(#"test_requests_total{label="none",status="400"} 1"#))
        #expect(text.contains(#"test_requests_total{label="5",status="3202"} 1"#))
        let latency = histogram.snapshot()
        #expect(latency.total == 7)
        #expect(latency.counts.reduce(0, +) == 7)
    }
}
