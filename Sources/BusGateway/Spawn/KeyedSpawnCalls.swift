import BusLoop
import BusRedis
import BusRegions
import BusStreams

/// The keyed single spawns of one loop, gathered per region while the loop runs the callbacks
/// pending in one iteration (the requests read in one pass), then sent as one idempotent-append
/// call per region (`IdempotentAppendCall.maxAppends` at most each) once those callbacks ran.
/// The script's fixed cost is then paid per call, not per spawn, and nothing waits for a timer:
/// a spawn that arrives alone goes out in the same iteration, as a call of one.
///
/// Each spawn keeps its own answer: the call's outcomes are handed out in order, and a failure
/// of the call (timeout, disconnect, NOSCRIPT after the reload, overloaded) is each spawn's.
/// One call is one command against the connection's outstanding cap: a spawn that would open a
/// call the connection has no room for is refused at once, as a plain append would be.
final class KeyedSpawnCalls {
    /// A keyed spawn waiting for its region's call.
    struct Waiting {
        let append: SpawnPipeline.Append
        let call: IdempotentAppend
        /// Gets the spawn's outcome, on the loop.
        let answer: (Result<IdempotentAppend.Outcome, RedisError>) -> Void
    }

    private let regions: [RegionConfig]
    private let connections: [RedisConnection]
    private let connectionOfRegion: [Int]
    /// By region (catalog index): the spawns waiting, in arrival order.
    private var waiting: [[Waiting]]
    /// Regions with spawns waiting, in the order their first one came.
    private var regionsWaiting: [Int] = []
    /// By connection: calls this pass will send, not yet counted by the connection.
    private var callsToSend: [Int]
    private var flush: LoopTimer!

    init(loop: EventLoop, regions: [RegionConfig], connections: [RedisConnection], connectionOfRegion: [Int]) {
        self.regions = regions
        self.connections = connections
        self.connectionOfRegion = connectionOfRegion
        waiting = Array(repeating: [], count: regions.count)
        callsToSend = Array(repeating: 0, count: connections.count)
        flush = LoopTimer(loop: loop) { [unowned self] in self.sendCalls() }
    }

    /// Queues `spawn` for its region's call in this iteration, or answers `.overloaded` at once
    /// when its connection has no room for the call it would open.
    func add(_ spawn: Waiting) {
        let region = spawn.append.region
        let connectionIndex = connectionOfRegion[region]
        if waiting[region].count % IdempotentAppendCall.maxAppends == 0 {
            let connection = connections[connectionIndex]
            guard connection.outstanding + callsToSend[connectionIndex] < connection.configuration.maxOutstanding
            else { return spawn.answer(.failure(.overloaded)) }
            callsToSend[connectionIndex] += 1
        }
        if waiting[region].isEmpty { regionsWaiting.append(region) }
        waiting[region].append(spawn)
        flush.fireAfterPendingCallbacks()
    }

    private func sendCalls() {
        let regionsNow = regionsWaiting
        regionsWaiting.removeAll(keepingCapacity: true)
        for index in callsToSend.indices { callsToSend[index] = 0 }
        for region in regionsNow {
            let spawns = waiting[region]
            waiting[region].removeAll(keepingCapacity: true)
            let connection = connections[connectionOfRegion[region]]
            for start in stride(from: 0, to: spawns.count, by: IdempotentAppendCall.maxAppends) {
                let chunk = Array(spawns[start..<min(start + IdempotentAppendCall.maxAppends, spawns.count)])
                let call = IdempotentAppendCall(
                    region: regions[region], receivedAt: chunk[0].append.receivedAt, appends: chunk.map(\.call))
                connection.send(call) { result in
                    switch result {
                    case .success(let outcomes):
                        for (spawn, outcome) in zip(chunk, outcomes) { spawn.answer(.success(outcome)) }
                    case .failure(let error):
                        for spawn in chunk { spawn.answer(.failure(error)) }
                    }
                }
            }
        }
    }
}
