import Atomics

/// A Prometheus histogram whose observations are recorded without locks: one shard of atomic
/// bucket counters per event loop (uncontended), summed when scraped.
package final class ShardedHistogram: Sendable {
    package let name: String
    package let help: String
    /// Upper bounds in seconds, ascending.
    package let buckets: [Double]
    private let labels: [(String, String)]
    private let shards: [Shard]

    /// One loop's share. Record only from that loop.
    package final class Shard: Sendable {
        fileprivate let counts: [ManagedAtomic<Int>]
        fileprivate let sumMicroseconds = ManagedAtomic<Int>(0)
        fileprivate let total = ManagedAtomic<Int>(0)
        fileprivate let bounds: [Double]

        fileprivate init(bounds: [Double]) {
            self.bounds = bounds
            counts = bounds.map { _ in ManagedAtomic(0) }
        }

        /// Records one observation in seconds.
        package func record(seconds: Double) {
            if let index = bounds.firstIndex(where: { seconds <= $0 }) {
                counts[index].wrappingIncrement(ordering: .relaxed)
            }
            sumMicroseconds.wrappingIncrement(by: Int(seconds * 1_000_000), ordering: .relaxed)
            total.wrappingIncrement(ordering: .relaxed)
        }
    }

    package init(name: String, help: String, labels: [(String, String)] = [], buckets: [Double], shards: Int) {
        self.name = name
        self.help = help
        self.labels = labels
        self.buckets = buckets
        self.shards = (0..<max(1, shards)).map { _ in Shard(bounds: buckets) }
    }

    package func shard(_ index: Int) -> Shard { shards[index % shards.count] }

    /// Latency buckets from 0.5 ms to 10 s.
    package static let latencyBuckets: [Double] = [
        0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10,
    ]

    /// Every shard summed: counts per bucket (not cumulative), the sum and the count.
    package struct Snapshot: Sendable {
        package let bounds: [Double]
        package let counts: [Int]
        package let sumSeconds: Double
        package let total: Int

        /// The upper bound of the bucket holding quantile `q` (0 … 1); nil when empty or when
        /// it falls past the last bucket.
        package func quantile(_ q: Double) -> Double? {
            guard total > 0 else { return nil }
            let rank = Int((Double(total) * q).rounded(.up))
            var seen = 0
            for (index, count) in counts.enumerated() {
                seen += count
                if seen >= rank { return bounds[index] }
            }
            return nil
        }
    }

    package func snapshot() -> Snapshot {
        var counts = Array(repeating: 0, count: buckets.count)
        var sumMicroseconds = 0
        var total = 0
        for shard in shards {
            for index in counts.indices { counts[index] += shard.counts[index].load(ordering: .relaxed) }
            sumMicroseconds += shard.sumMicroseconds.load(ordering: .relaxed)
            total += shard.total.load(ordering: .relaxed)
        }
        return Snapshot(bounds: buckets, counts: counts, sumSeconds: Double(sumMicroseconds) / 1_000_000, total: total)
    }

    /// Writes `# HELP`, `# TYPE` and the cumulative buckets, sum and count.
    func emit(into buffer: inout [UInt8]) {
        let snapshot = snapshot()
        let counts = snapshot.counts
        let total = snapshot.total
        let labelText = labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",")
        let prefix = labelText.isEmpty ? "" : labelText + ","
        var text = "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        var cumulative = 0
        for (index, bound) in buckets.enumerated() {
            cumulative += counts[index]
            text += "\(name)_bucket{\(prefix)le=\"\(bound)\"} \(cumulative)\n"
        }
        text += "\(name)_bucket{\(prefix)le=\"+Inf\"} \(total)\n"
        let suffix = labelText.isEmpty ? "" : "{\(labelText)}"
        text += "\(name)_sum\(suffix) \(snapshot.sumSeconds)\n"
        text += "\(name)_count\(suffix) \(total)\n"
        buffer.append(contentsOf: text.utf8)
    }
}
