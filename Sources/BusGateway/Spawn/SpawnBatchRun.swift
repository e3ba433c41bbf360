import BusDomain
import BusHTTP
import BusJSON
import BusRedis
import BusRegions
import BusService
import BusStreams
import Logging

/// One batch request from its appends to its answer, on one loop.
///
/// The events of one region go to that region's connection in request order, all written
/// before the first reply is awaited (the connection pipelines what is sent in one loop pass),
/// so one biome's entries keep the batch's order: Redis runs one connection's commands in the
/// order they arrive. A share that would push the connection past its outstanding-command cap
/// is refused whole (503 per event), never cut in two. Each run of consecutive keyed events of
/// one region goes in one idempotent-append call (chunked at `IdempotentAppendCall.maxAppends`),
/// between the plain appends around it. When the share holds keyed events, the script is
/// prepared on the connection first, so no call of the share can fail NOSCRIPT and be resent
/// behind later ones.
final class SpawnBatchRun {
    /// One event's result.
    struct EventResult {
        var outcome: SpawnPipeline.Outcome
        /// The accepted event's append (nil for a refused one).
        var append: SpawnPipeline.Append?
        /// The chest id to report (the stored one on a replay).
        var chestID: String
        var label: String
    }

    private var results: [EventResult?]
    private var remaining: Int
    private let done: ([EventResult]) -> Void

    private init(count: Int, done: @escaping ([EventResult]) -> Void) {
        results = Array(repeating: nil, count: count)
        remaining = count
        self.done = done
    }

    private func finish(_ index: Int, _ result: EventResult) {
        precondition(results[index] == nil, "a batch event finished twice")
        results[index] = result
        remaining -= 1
        if remaining == 0 { done(results.map { $0! }) }
    }

    /// Appends `events` over `connections` (`connectionOfRegion` maps a region's catalog index
    /// to its connection); `done` gets every result, in request order, on the loop.
    static func start(
        _ events: [SpawnPipeline.PlannedEvent], pipeline: SpawnPipeline, connections: [RedisConnection],
        connectionOfRegion: [Int], replicaWaits: [ReplicaWait?] = [], logger: Logger,
        done: @escaping ([EventResult]) -> Void
    ) {
        let run = SpawnBatchRun(count: events.count, done: done)
        var shares: [[Int]] = Array(repeating: [], count: connections.count)
        for (index, event) in events.enumerated() {
            switch event.planned {
            case .success(let append): shares[connectionOfRegion[append.region]].append(index)
            case .failure(let error):
                run.finish(index, EventResult(outcome: .refused(error), append: nil, chestID: "", label: event.label))
            }
        }
        for (connectionIndex, share) in shares.enumerated() where !share.isEmpty {
            run.send(
                share, of: events, over: connections[connectionIndex], waits: replicaWaits, pipeline: pipeline,
                logger: logger)
        }
    }

    /// One command of a share: a plain append, or a run of consecutive keyed appends of one
    /// region (at most `IdempotentAppendCall.maxAppends`) in one script call.
    private enum Command {
        case plain(index: Int, SpawnPipeline.Append, XAdd)
        case keyed([(index: Int, append: SpawnPipeline.Append, key: IdempotencyKey)], IdempotentAppendCall)
    }

    /// The share's commands in request order: each maximal run of keyed events of one region
    /// becomes calls of the script, the plain appends between them stay where they were.
    private static func commands(
        _ share: [Int], _ appends: [SpawnPipeline.Append], regions: [RegionConfig]
    ) -> [Command] {
        var commands: [Command] = []
        var run: [(index: Int, append: SpawnPipeline.Append, key: IdempotencyKey)] = []
        var calls: [IdempotentAppend] = []
        func endRun() {
            guard let first = run.first else { return }
            let call = IdempotentAppendCall(
                region: regions[first.append.region], receivedAt: first.append.receivedAt, appends: calls)
            commands.append(.keyed(run, call))
            run.removeAll()
            calls.removeAll()
        }
        for (index, append) in zip(share, appends) {
            switch append.work {
            case .plain(let xadd):
                endRun()
                commands.append(.plain(index: index, append, xadd))
            case .keyed(let call, let key):
                if let first = run.first,
                    first.append.region != append.region || run.count == IdempotentAppendCall.maxAppends
                {
                    endRun()
                }
                run.append((index, append, key))
                calls.append(call)
            }
        }
        endRun()
        return commands
    }

    private func send(
        _ share: [Int], of events: [SpawnPipeline.PlannedEvent], over connection: RedisConnection,
        waits: [ReplicaWait?], pipeline: SpawnPipeline, logger: Logger
    ) {
        let appends = share.map { index -> SpawnPipeline.Append in
            guard case .success(let append) = events[index].planned else { preconditionFailure("planned event") }
            return append
        }
        // Regions sharing a connection share a Redis, so one WAIT (the strictest) covers them.
        let wait = appends.compactMap { waits.isEmpty ? nil : waits[$0.region] }
            .max {
                ($0.durability.replicas, $0.durability.timeoutMs) < ($1.durability.replicas, $1.durability.timeoutMs)
            }
        let commands = Self.commands(share, appends, regions: pipeline.catalog.regions)
        let keyed = commands.contains { if case .keyed = $0 { true } else { false } }
        let needed = commands.count + (keyed ? 1 : 0) + (wait == nil ? 0 : 1)
        guard connection.outstanding + needed <= connection.configuration.maxOutstanding else {
            return fail(share, appends, events, error: .overloaded, pipeline: pipeline, logger: logger)
        }
        let script = keyed ? connection.prepare(IdempotentAppendCall.script) : nil
        sendAll(commands, events, script: script, wait: wait, over: connection, pipeline: pipeline, logger: logger)
    }

    /// Sends the share's commands, then its `WAIT` when one is due: each result is held until
    /// the `WAIT` replied, which decides whether the accepted ones stand.
    private func sendAll(
        _ commands: [Command], _ events: [SpawnPipeline.PlannedEvent], script: PreparedScript?, wait: ReplicaWait?,
        over connection: RedisConnection, pipeline: SpawnPipeline, logger: Logger
    ) {
        var held: [(Int, EventResult)] = []
        let finishOrHold = { [self] (index: Int, result: EventResult) in
            if wait == nil { finish(index, result) } else { held.append((index, result)) }
        }
        for command in commands {
            switch command {
            case .plain(let index, let append, let xadd):
                let label = events[index].label
                connection.send(xadd.command) { reply in
                    let outcome = pipeline.outcome(append, xadd: xadd, reply: reply, logger: logger)
                    finishOrHold(
                        index, EventResult(outcome: outcome, append: append, chestID: append.chestID, label: label))
                }
            case .keyed(let run, let call):
                guard let script else { preconditionFailure("a share with keyed events is sent prepared") }
                connection.send(call.command(sha: script.sha)) { reply in
                    let decoded = call.decode(reply)
                    for (position, event) in run.enumerated() {
                        let (outcome, chestID) = pipeline.outcome(
                            event.append, key: event.key, reply: decoded.map { $0[position] }, logger: logger)
                        finishOrHold(
                            event.index,
                            EventResult(
                                outcome: outcome, append: event.append, chestID: chestID,
                                label: events[event.index].label))
                    }
                }
            }
        }
        guard let wait else { return }
        // Replies come in command order: every append of the share has its result when this runs.
        wait.send(on: connection) { [self] refusal in
            for (index, var result) in held {
                result.outcome = ReplicaWait.combine(result.outcome, refusal)
                finish(index, result)
            }
        }
    }

    private func fail(
        _ share: [Int], _ appends: [SpawnPipeline.Append], _ events: [SpawnPipeline.PlannedEvent], error: RedisError,
        pipeline: SpawnPipeline, logger: Logger
    ) {
        for (index, append) in zip(share, appends) {
            let refusal = SpawnPipeline.apiError(
                for: error, region: pipeline.catalog.regions[append.region], logger: logger)
            finish(
                index,
                EventResult(
                    outcome: .refused(refusal), append: append, chestID: append.chestID, label: events[index].label))
        }
    }

    /// The batch's `200` answer: `{"accepted": n, "rejected": m, "results": [...]}`, one result
    /// per event in request order.
    static func response(_ results: [EventResult]) -> HTTPResponse {
        let accepted = results.count { if case .accepted = $0.outcome { true } else { false } }
        var body = JSONWriter()
        body.beginObject()
        body.field("accepted", accepted)
        body.field("rejected", results.count - accepted)
        body.key("results")
        body.beginArray()
        for result in results {
            switch result.outcome {
            case .accepted(let id, let replayed):
                let append = result.append!
                SpawnPipeline.writeAccepted(
                    to: &body, biome: append.biome, stream: append.stream, id: id, chestID: result.chestID,
                    status: 202, replayed: replayed)
            case .refused(let error):
                body.beginObject()
                body.field("status", error.status)
                body.key("error")
                body.beginObject()
                body.field("code", error.code)
                body.field("message", error.message)
                body.endObject()
                body.endObject()
            }
        }
        body.endArray()
        body.endObject()
        return .json(200, bytes: body.bytes)
    }
}
