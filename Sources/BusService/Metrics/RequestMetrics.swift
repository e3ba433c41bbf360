import BusHTTP
import BusLoop
import Metrics

/// One loop's request accounting: a counter per (label, status), made on first use and reused,
/// and the loop's shard of the latency histogram. Use it only on its loop: the cache is a plain
/// dictionary, so counting a request takes no lock and, once a pair was seen, allocates nothing.
package final class RequestMeter {
    private struct Key: Hashable {
        let label: String
        let status: Int
    }

    private let makeCounter: (_ label: String, _ status: Int) -> Metrics.Counter
    private let latency: ShardedHistogram.Shard
    private var counters: [Key: Metrics.Counter] = [:]
    /// The pair counted last and its counter: a loop mostly answers the same route with the
    /// same status many times in a row, and comparing a short label costs less than hashing it.
    private var last: (key: Key, counter: Metrics.Counter)?

    /// `makeCounter` registers the service's request counter for a label and status (called
    /// once per pair); `latency` is this loop's shard of the request histogram.
    package init(
        latency: ShardedHistogram.Shard, makeCounter: @escaping (_ label: String, _ status: Int) -> Metrics.Counter
    ) {
        self.latency = latency
        self.makeCounter = makeCounter
    }

    /// Counts one answered request and records its latency from `started`
    /// (`Clocks.monotonicNanoseconds()` when it arrived).
    package func record(label: String, status: Int, started: UInt64) {
        let key = Key(label: label, status: status)
        let counter: Metrics.Counter
        if let last, last.key == key {
            counter = last.counter
        } else if let cached = counters[key] {
            counter = cached
        } else {
            counter = makeCounter(label, status)
            counters[key] = counter
        }
        last = (key, counter)
        counter.increment()
        latency.record(seconds: Double(Clocks.monotonicNanoseconds() &- started) / 1e9)
    }

    /// The counters made so far (tests).
    var cachedCounters: Int { counters.count }
}

/// A service's request metrics: a counter by (label, status) and a latency histogram sharded per
/// loop. Pass `duration` to the service's `ServiceMetrics` so that it is exported, then give each
/// loop its `meter`.
package final class RequestMetrics: Sendable {
    package let duration: ShardedHistogram
    private let counterName: String
    private let counterHelp: String
    private let labelName: String

    /// `counter` (`# HELP` `counterHelp`) counts answers by `labelName` and `status`;
    /// `duration` (`# HELP` `durationHelp`) times them, one shard per loop.
    package init(
        counter: String, counterHelp: String, labelName: String, duration: String, durationHelp: String, loops: Int
    ) {
        self.duration = ShardedHistogram(
            name: duration, help: durationHelp, buckets: ShardedHistogram.latencyBuckets, shards: loops)
        counterName = counter
        self.counterHelp = counterHelp
        self.labelName = labelName
    }

    /// Loop `index`'s meter, registering its counters in `service`.
    package func meter(loop index: Int, in service: ServiceMetrics) -> RequestMeter {
        RequestMeter(latency: duration.shard(index)) { [self] label, status in
            service.counter(counterName, help: counterHelp, [(labelName, label), ("status", String(status))])
        }
    }
}

/// A request's responder that counts and times the answer in one place.
///
/// A struct holding references that already exist (the request's responder, the loop's meter),
/// so wrapping a request allocates nothing. `label` is the metric label (route or biome); set
/// it once it is known. Without a meter (`requestMetrics` off) it only sends.
package struct MeteredResponder {
    package let responder: HTTPResponder
    private let meter: RequestMeter?
    private let started: UInt64
    package var label: String

    package init(_ responder: HTTPResponder, meter: RequestMeter?, label: String, started: UInt64) {
        self.responder = responder
        self.meter = meter
        self.label = label
        self.started = started
    }

    /// Sends the answer, then counts it.
    package func send(_ response: HTTPResponse) {
        responder.send(response)
        meter?.record(label: label, status: response.status, started: started)
    }
}
