import BusDomain

/// Which streams one XREADGROUP asks, and for how many entries each.
///
/// `COUNT` applies to every stream of an XREADGROUP, so a read over `n` streams can deliver up
/// to `n × COUNT` entries, and Redis counts every one of them as pending on this consumer.
/// To keep the cap, a read never asks for more than the free slots: `⌊free / n⌋` from each
/// stream, or, when fewer slots than streams are free, one entry from each of `free` streams,
/// rotating which ones so that none is starved.
struct ReadPlan: Sendable, Equatable {
    /// Indexes into the consumer's streams.
    let streams: [Int]
    let countPerStream: Int

    /// The most entries this read can deliver.
    var maximum: Int { streams.count * countPerStream }

    init(freeSlots: Int, streamCount: Int, rotation: Int) {
        guard freeSlots > 0, streamCount > 0 else {
            self.streams = []
            self.countPerStream = 0
            return
        }
        if freeSlots >= streamCount {
            streams = Array(0..<streamCount)
            countPerStream = freeSlots / streamCount
        } else {
            streams = (0..<freeSlots).map { (rotation + $0) % streamCount }
            countPerStream = 1
        }
    }
}
