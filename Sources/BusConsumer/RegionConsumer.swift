import BusDomain
import BusLoop
import BusRedis
import BusStreams
import Logging

/// Counters a consumer keeps for metrics and logs.
public struct ConsumerStatistics: Sendable, Equatable {
    public var handled = 0
    public var failed = 0
    public var retried = 0
    public var deadLettered = 0
    public var reclaimed = 0
    /// Pending ids whose entry had been trimmed from the stream (dropped from the pending list).
    public var trimmed = 0
    /// Gone consumers with nothing pending, removed from the group.
    public var consumersRemoved = 0
    /// Entries another consumer had claimed meanwhile (this one had stalled): left to it.
    public var lostOwnership = 0
    /// Total handler time, for the mean; the histogram lives in the metrics.
    public var handlerSecondsTotal = 0.0
}

/// Reads a region's biome streams in its consumer group and runs a handler on each entry,
/// performing what `ConsumerStateMachine` decides. Everything runs on one loop.
///
/// Two Redis connections: one only for the blocking XREADGROUP, one for everything else, so a
/// read blocked for `block_ms` never delays an acknowledgement.
public final class RegionConsumer {
    public struct Configuration: Sendable {
        public var region: RegionConfig
        public var biomes: [BiomeID]
        public var consumerName: String
        /// The region's `handler_timeout_ms`.
        public var handlerTimeout: Duration
        /// How often idle entries of other consumers are looked for: every blocking read (but
        /// at least twice per `claim_idle_ms`), 100 ms … 10 s. A claim that comes due waits for
        /// the read in progress, so a dead consumer's entries are taken within `claim_idle_ms`
        /// plus about one read cycle.
        public var reclaimInterval: Duration
        /// How long a retry after a Redis failure (read, group creation) waits at most.
        public var redisRetryBackoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(5))

        public init(region: RegionConfig, biomes: [BiomeID], consumerName: String) {
            self.region = region
            self.biomes = biomes
            self.consumerName = consumerName
            handlerTimeout = .milliseconds(region.consumer.handlerTimeoutMs)
            let half = region.consumer.claimIdleMs / 2
            reclaimInterval = .milliseconds(min(max(min(half, region.consumer.blockMs), 100), 10_000))
        }
    }

    public let loop: EventLoop
    public let configuration: Configuration
    public private(set) var statistics = ConsumerStatistics()
    /// Called after each change of what is held, for gauges.
    public var onProgress: ((RegionConsumer) -> Void)?
    /// Called with each handler run's duration in seconds.
    public var onHandlerDuration: ((Double) -> Void)?

    private let handler: DeliveryHandler
    private let logger: Logger
    private var machine: ConsumerStateMachine
    private let reads: RedisConnection
    private let commands: RedisConnection
    private let streams: [String]
    private let biomeOfStream: [String: BiomeID]
    private var group: String { configuration.region.consumer.group }

    /// Fields of every held entry, for the handler and the dead-letter copy.
    private var fields: [EntryKey: [String: String]] = [:]
    private var retryTimers: [EntryKey: LoopTimer] = [:]
    private var handlerTimers: [EntryKey: LoopTimer] = [:]
    /// Acknowledgements gathered in this loop pass, per stream, sent as one XACK each.
    private var acksDue: [BiomeID: [EntryKey]] = [:]
    private lazy var ackTimer = LoopTimer(loop: loop) { [unowned self] in self.flushAcknowledgements() }
    /// Where each stream's next XAUTOCLAIM continues (its cursor), so entries behind a long
    /// head of live pending entries are reached.
    private var claimCursors: [String: String] = [:]
    private var handlerStarted: [EntryKey: UInt64] = [:]
    private var readFailures = 0
    /// Where the next partial read starts, so that no stream is starved when slots are few.
    private var readRotation = 0
    private var groupsReady = false
    /// Backoff jitter; its own state, not the zero-size system generator (see `JitterRandom`).
    private var random = JitterRandom()
    private lazy var readRetryTimer = LoopTimer(loop: loop) { [unowned self] in self.resumeReading() }
    private lazy var groupRetryTimer = LoopTimer(loop: loop) { [unowned self] in self.ensureGroups() }
    private var groupFailures = 0
    private lazy var reclaimTimer = LoopTimer(loop: loop) { [unowned self] in self.reclaimRound() }
    private var stopped: (() -> Void)?

    public init(loop: EventLoop, configuration: Configuration, handler: DeliveryHandler, logger: Logger) {
        self.loop = loop
        self.configuration = configuration
        self.handler = handler
        self.logger = logger
        let consumer = configuration.region.consumer
        machine = ConsumerStateMachine(
            maxInFlight: consumer.maxInFlight, maxDeliveries: consumer.maxDeliveries, backoff: consumer.backoff,
            streams: configuration.biomes.count)
        let address = configuration.region.redis
        var readConfiguration = RedisConnectionConfiguration(
            host: address.host, port: address.port, database: address.database, username: address.username,
            password: address.password)
        // A blocking read legitimately waits block_ms; only past that is Redis unresponsive.
        readConfiguration.commandTimeout = .milliseconds(consumer.blockMs) + .seconds(2)
        var commandConfiguration = readConfiguration
        commandConfiguration.commandTimeout = .seconds(2)
        commandConfiguration.maxOutstanding = Self.commandCap(
            maxInFlight: consumer.maxInFlight, streams: Set(configuration.biomes).count)
        reads = RedisConnection(loop: loop, configuration: readConfiguration)
        commands = RedisConnection(loop: loop, configuration: commandConfiguration)
        var seen = Set<BiomeID>()
        streams = configuration.biomes.filter { seen.insert($0).inserted }.map(StreamKey.events)
        biomeOfStream = Dictionary(configuration.biomes.map { (StreamKey.events($0), $0) }) { first, _ in first }
        reads.onReadinessChange = { [unowned self] ready in
            if ready { self.resumeReading() }
        }
        commands.onReadinessChange = { [unowned self] ready in
            if ready && !self.groupsReady { self.ensureGroups() }
            if ready {
                self.logger.info("region up", metadata: ["region": "\(configuration.region.name)"])
            } else {
                self.logger.warning(
                    "region down",
                    metadata: [
                        "region": "\(configuration.region.name)", "error": "\(self.commands.lastError ?? "unknown")",
                    ])
            }
        }
    }

    /// The most commands the command connection can have waiting at once: per held entry one
    /// acknowledgement, retry claim or dead letter, plus one XPENDING per entry a reclaim
    /// brings in (at most the free slots), plus per stream one group creation, one gone-consumer
    /// sweep and one XAUTOCLAIM. Never below the connection's default.
    static func commandCap(maxInFlight: Int, streams: Int) -> Int {
        max(RedisConnectionConfiguration(host: "", port: 0).maxOutstanding, 2 * maxInFlight + 3 * streams + 16)
    }

    /// Entries held now; never more than `max_in_flight`.
    public var inFlight: Int { machine.held }
    public var isConnected: Bool { reads.isReady && commands.isReady }

    public func start() {
        loop.assertInLoop()
        reads.start()
        commands.start()
        reclaimTimer.schedule(after: configuration.reclaimInterval)
    }

    /// Stops reading, lets handlers finish (acknowledging successes), leaves the rest pending
    /// for other consumers, then calls `done`. The caller bounds the wait with its own timeout
    /// and calls `close()` after it.
    public func stop(then done: @escaping () -> Void) {
        loop.assertInLoop()
        stopped = done
        reclaimTimer.cancel()
        readRetryTimer.cancel()
        let actions = machine.stop()
        for key in retryTimers.keys where !machine.isHeld(key) {
            retryTimers[key]?.cancel()
            retryTimers[key] = nil
            fields[key] = nil
        }
        // Closing the read connection ends a blocked XREADGROUP now instead of after block_ms.
        reads.close()
        perform(actions)
    }

    /// Closes both connections (after `stop`, or when giving up on a drain).
    public func close() {
        reads.close()
        commands.close()
        ackTimer.cancel()
        for timer in retryTimers.values { timer.cancel() }
        for timer in handlerTimers.values { timer.cancel() }
        retryTimers = [:]
        handlerTimers = [:]
    }

    // MARK: - Groups and reading

    private func ensureGroups() {
        guard commands.isReady else { return }
        var remaining = streams.count
        var failed = false
        for stream in streams {
            commands.send(XGroupCreate(stream: stream, group: group)) { [unowned self] result in
                // A group that exists already (BUSYGROUP) is success: XGroupCreate answers `.existed`.
                if case .failure(let error) = result {
                    failed = true
                    self.logger.warning(
                        "cannot create consumer group", metadata: ["stream": "\(stream)", "error": "\(error)"])
                }
                remaining -= 1
                guard remaining == 0 else { return }
                if failed {
                    self.groupFailures += 1
                    self.groupRetryTimer.schedule(
                        after: self.configuration.redisRetryBackoff.delay(
                            attempt: self.groupFailures, using: &self.random))
                } else {
                    self.groupFailures = 0
                    self.groupsReady = true
                    self.resumeReading()
                }
            }
        }
    }

    private func resumeReading() {
        guard groupsReady, reads.isReady, !machine.isStopping else { return }
        perform(machine.readIfIdle())
    }

    private func scheduleReadRetry() {
        readFailures += 1
        readRetryTimer.schedule(after: configuration.redisRetryBackoff.delay(attempt: readFailures, using: &random))
    }

    private func read(count: Int) {
        let plan = ReadPlan(freeSlots: count, streamCount: streams.count, rotation: readRotation)
        readRotation += plan.streams.count
        let command = XReadGroup(
            group: group, consumer: configuration.consumerName, count: plan.countPerStream,
            blockMs: configuration.region.consumer.blockMs, streams: plan.streams.map { streams[$0] })
        reads.send(command) { [unowned self] result in
            switch result {
            case .success(let read):
                readFailures = 0
                var keys: [EntryKey] = []
                for batch in read.batches {
                    guard let biome = biomeOfStream[batch.stream] else { continue }
                    for entry in batch.entries {
                        let key = EntryKey(biome: biome, id: entry.id)
                        fields[key] = entry.fields ?? [:]
                        keys.append(key)
                    }
                }
                let actions = machine.readFinished(keys, reservedCount: count)
                dropFieldsOfUnheld(keys)
                perform(actions)
            case .failure(let error):
                perform(machine.readFailed(reservedCount: count))
                guard !machine.isStopping else { return }
                if error.serverCode == .noGroup {
                    // The stream (and its group) vanished: deleted or evicted. Re-create it after
                    // a backoff rather than in a hot loop; reading resumes once it exists.
                    groupsReady = false
                    groupFailures += 1
                    logger.warning(
                        "consumer group missing; re-creating", metadata: ["error": "\(error.serverText ?? "")"])
                    groupRetryTimer.schedule(
                        after: configuration.redisRetryBackoff.delay(attempt: groupFailures, using: &random))
                } else {
                    scheduleReadRetry()
                }
            }
        }
    }

    private func dropFieldsOfUnheld(_ keys: [EntryKey]) {
        for key in keys where !machine.isHeld(key) { fields[key] = nil }
    }

    // MARK: - Performing actions

    private func perform(_ actions: [ConsumerStateMachine.Action]) {
        for action in actions {
            switch action {
            case .read(let count): read(count: count)
            case .claim(let count): claim(count: count)
            case .handle(let key, let deliveries, let run): handle(key, deliveries: deliveries, run: run)
            case .acknowledge(let key): acknowledge(key)
            case .scheduleRetry(let key, let delayMs): scheduleRetry(key, delayMs: delayMs)
            case .claimForRetry(let key, let counts): claimForRetry(key, countsDelivery: counts)
            case .deadLetter(let key, let deliveries, let error): deadLetter(key, deliveries: deliveries, error: error)
            case .finished: finish()
            }
        }
        onProgress?(self)
    }

    private func handle(_ key: EntryKey, deliveries: Int, run: Int) {
        handlerStarted[key] = Clocks.monotonicNanoseconds()
        let timer = LoopTimer(loop: loop) { [unowned self] in
            self.handlerFinished(key, run: run, result: .failure(HandlerFailure("handler timed out")))
        }
        timer.schedule(after: configuration.handlerTimeout)
        handlerTimers[key] = timer
        let entry = Delivery(key: key, fields: fields[key] ?? [:], deliveries: deliveries)
        handler.handle(entry) { [weak self] result in
            self?.handlerFinished(key, run: run, result: result)
        }
    }

    private func handlerFinished(_ key: EntryKey, run: Int, result: Result<Void, HandlerFailure>) {
        loop.assertInLoop()
        // A completion after its timeout (or after the entry was released) is ignored.
        guard machine.isCurrent(key, run: run) else { return }
        handlerTimers[key]?.cancel()
        handlerTimers[key] = nil
        if let started = handlerStarted.removeValue(forKey: key) {
            let seconds = Double(Clocks.monotonicNanoseconds() &- started) / 1e9
            statistics.handlerSecondsTotal += seconds
            onHandlerDuration?(seconds)
        }
        switch result {
        case .success:
            statistics.handled += 1
            perform(machine.handled(key, run: run, succeeded: true))
        case .failure(let failure):
            statistics.failed += 1
            logger.debug("handler failed", metadata: ["entry": "\(key)", "error": "\(failure)"])
            perform(
                machine.handled(
                    key, run: run, succeeded: false, transient: failure.isTransient, error: failure.description,
                    unit: jitterUnit()))
        }
        releaseIfUnheld(key)
    }

    /// Queues the acknowledgement; everything acknowledged in this loop pass goes out as one
    /// `XACK stream group id…` per stream at the end of the pass.
    private func acknowledge(_ key: EntryKey) {
        let first = acksDue.isEmpty
        acksDue[key.biome, default: []].append(key)
        if first { ackTimer.schedule(after: .zero) }
    }

    private func flushAcknowledgements() {
        let due = acksDue
        acksDue = [:]
        for (biome, keys) in due {
            let command = XAck(stream: StreamKey.events(biome), group: group, ids: keys.map(\.id))
            commands.send(command) { [unowned self] result in
                if case .failure(let error) = result {
                    logger.warning(
                        "XACK failed; the entries stay pending and will be handled again",
                        metadata: [
                            "stream": "\(StreamKey.events(biome))", "count": "\(keys.count)", "error": "\(error)",
                        ])
                }
                perform(machine.settled(keys))
                for key in keys { releaseIfUnheld(key) }
            }
        }
    }

    private func scheduleRetry(_ key: EntryKey, delayMs: Double) {
        let timer =
            retryTimers[key]
            ?? LoopTimer(loop: loop) { [unowned self] in
                self.perform(self.machine.retryDue(key))
            }
        retryTimers[key] = timer
        timer.schedule(after: .milliseconds(Int64(delayMs.rounded())))
    }

    /// Re-claims the entry to this consumer (`XCLAIM … 0`), so that Redis counts the delivery
    /// (surviving a crash) and returns the entry, but only while this consumer still owns it:
    /// if it stalled past `claim_idle_ms` and another consumer reclaimed the entry, that one
    /// keeps it. Returns nil when owned elsewhere, no entry when it was trimmed meanwhile.
    /// `countsDelivery` false (after a transient failure): `XCLAIM … JUSTID`, which leaves the
    /// delivery count alone; the fields are the ones already held.
    private func claimForRetry(_ key: EntryKey, countsDelivery: Bool) {
        statistics.retried += 1
        commands.run(
            StreamScripts.claimIfOwned, keys: [StreamKey.events(key.biome)],
            arguments: [
                .string(group), .string(key.id), .string(configuration.consumerName), countsDelivery ? "1" : "0",
            ]
        ) { [unowned self] result in
            switch result {
            case .success(.null):
                statistics.lostOwnership += 1
                perform(machine.claimedForRetry(key, present: false))
            case .success(let reply) where !countsDelivery:
                // JUSTID answers ids only; a trimmed entry is left out (and dropped from the PEL).
                if (reply.array ?? []).contains(where: { $0.string == key.id }) {
                    perform(machine.claimedForRetry(key, present: true))
                } else {
                    statistics.trimmed += 1
                    perform(machine.claimedForRetry(key, present: false))
                }
            case .success(let reply):
                let entry = (reply.array ?? []).lazy.compactMap(StreamEntry.init(reply:)).first { $0.id == key.id }
                if let entry, let entryFields = entry.fields {
                    fields[key] = entryFields
                    perform(machine.claimedForRetry(key, present: true))
                } else {
                    statistics.trimmed += 1
                    perform(machine.claimedForRetry(key, present: false))
                }
            case .failure:
                perform(machine.claimForRetryFailed(key, unit: jitterUnit()))
            }
            releaseIfUnheld(key)
        }
    }

    /// Copies the entry to `EVDLQ:<biome>` and acknowledges it in one script, so it is never
    /// both dead and pending, nor lost between the two; and only while this consumer still owns
    /// it, so an entry another consumer reclaimed (and may have handled) is not dead-lettered.
    private func deadLetter(_ key: EntryKey, deliveries: Int, error: String) {
        var arguments: [RedisArgument] = [.string(group), .string(key.id), .string(configuration.consumerName)]
        for (name, value) in (fields[key] ?? [:]).sorted(by: { $0.key < $1.key }) {
            arguments += [.string(name), .string(value)]
        }
        arguments += ["source_id", .string(key.id), "deliveries", .integer(Int64(deliveries)), "error", .string(error)]
        let keys = [StreamKey.deadLetters(key.biome), StreamKey.events(key.biome)]
        commands.run(StreamScripts.deadLetter, keys: keys, arguments: arguments) { [unowned self] result in
            switch result {
            case .success(.integer(0)):
                statistics.lostOwnership += 1
            case .success:
                statistics.deadLettered += 1
                logger.warning(
                    "entry dead-lettered",
                    metadata: ["entry": "\(key)", "deliveries": "\(deliveries)", "error": "\(error)"])
            case .failure(let failure):
                logger.warning(
                    "dead-lettering failed; the entry stays pending",
                    metadata: ["entry": "\(key)", "error": "\(failure)"])
            }
            perform(machine.settled(key))
            releaseIfUnheld(key)
        }
    }

    private func releaseIfUnheld(_ key: EntryKey) {
        guard !machine.isHeld(key) else { return }
        fields[key] = nil
        handlerTimers[key]?.cancel()
        handlerTimers[key] = nil
        retryTimers[key]?.cancel()
        retryTimers[key] = nil
    }

    private func finish() {
        guard let stopped else { return }
        self.stopped = nil
        commands.close()
        stopped()
    }

    private func jitterUnit() -> Double {
        Double.random(in: -1...1, using: &random)
    }

    // MARK: - Reclaiming from dead consumers

    /// Every `reclaimInterval` a claim comes due; the state machine sends it once slots are free.
    private func reclaimRound() {
        reclaimTimer.schedule(after: configuration.reclaimInterval)
        guard commands.isReady, groupsReady else { return }
        for stream in streams { removeGoneConsumers(stream) }
        perform(machine.claimDue())
    }

    /// XAUTOCLAIM entries idle longer than `claim_idle_ms` (from any consumer, this one's
    /// previous life included) into the `count` reserved slots, stream by stream.
    private func claim(count: Int) {
        var claimed: [(EntryKey, deliveries: Int)] = []
        func next(_ index: Int) {
            let remaining = count - claimed.count
            guard index < streams.count, remaining > 0, !machine.isStopping else {
                if !claimed.isEmpty {
                    statistics.reclaimed += claimed.count
                    logger.info("reclaimed idle entries", metadata: ["count": "\(claimed.count)"])
                }
                let actions = machine.claimed(claimed, reservedCount: count)
                dropFieldsOfUnheld(claimed.map(\.0))
                perform(actions)
                return
            }
            claimStream(streams[index], limit: remaining) { entries in
                claimed += entries
                next(index + 1)
            }
        }
        next(0)
    }

    /// Scans the stream's pending list with XAUTOCLAIM from where the last scan stopped,
    /// following the cursor until `limit` entries are claimed or the scan wraps to `0-0`.
    /// XAUTOCLAIM looks at no more than 10 × COUNT pending entries per call, so a scan that
    /// always began at `0-0` would never get past a head of entries live consumers hold.
    private func claimStream(
        _ stream: String, limit: Int, _ completion: @escaping ([(EntryKey, deliveries: Int)]) -> Void
    ) {
        var collected: [(EntryKey, deliveries: Int)] = []
        var calls = 0
        func step() {
            let remaining = limit - collected.count
            let cursor = claimCursors[stream] ?? "0-0"
            // Bounded per round; the cursor carries the rest of a long scan to the next round.
            guard remaining > 0, calls < Self.claimCallsPerRound, !machine.isStopping else {
                return completion(collected)
            }
            calls += 1
            claimOnce(stream, from: cursor, limit: remaining) { [unowned self] next, entries in
                collected += entries
                claimCursors[stream] = next ?? cursor
                // nil: Redis did not answer; "0-0": the whole list was scanned.
                guard let next, next != "0-0" else { return completion(collected) }
                step()
            }
        }
        step()
    }

    /// XAUTOCLAIM calls per stream in one reclaim round (each scans at most 10 × COUNT ids).
    static let claimCallsPerRound = 64

    /// One XAUTOCLAIM from `cursor`; the completion gets the next cursor (nil on failure) and
    /// the claimed entries with their delivery counts.
    private func claimOnce(
        _ stream: String, from cursor: String, limit: Int,
        _ completion: @escaping (String?, [(EntryKey, deliveries: Int)]) -> Void
    ) {
        let biome = biomeOfStream[stream]!
        let idle = configuration.region.consumer.claimIdleMs
        let command = XAutoClaim(
            stream: stream, group: group, consumer: configuration.consumerName, minIdleMs: idle, start: cursor,
            count: limit)
        commands.send(command) { [unowned self] result in
            guard case .success(let reclaimed) = result else { return completion(nil, []) }
            // Redis 7 drops pending ids whose entry was trimmed and lists them separately.
            statistics.trimmed += reclaimed.deletedIDs.count
            let present = reclaimed.entries.filter { $0.fields != nil }
            statistics.trimmed += reclaimed.entries.count - present.count
            guard !present.isEmpty else { return completion(reclaimed.cursor, []) }
            // XAUTOCLAIM does not say how often each entry was delivered; XPENDING does, one
            // exact range per id (pipelined; reclaims are rare).
            deliveryCounts(stream, ids: present.map(\.id)) { [unowned self] counts in
                let entries = present.map { entry -> (EntryKey, deliveries: Int) in
                    let key = EntryKey(biome: biome, id: entry.id)
                    if !machine.isHeld(key) { fields[key] = entry.fields }
                    // Unknown only if Redis failed to answer: assume this claim was a second delivery.
                    return (key, deliveries: counts[entry.id] ?? 2)
                }
                completion(reclaimed.cursor, entries)
            }
        }
    }

    private func deliveryCounts(_ stream: String, ids: [String], _ completion: @escaping ([String: Int]) -> Void) {
        var counts: [String: Int] = [:]
        var remaining = ids.count
        for id in ids {
            let command = XPendingRange(stream: stream, group: group, start: id, end: id, count: 1)
            commands.send(command) { result in
                if case .success(let rows) = result {
                    for row in rows { counts[row.id] = row.deliveries }
                }
                remaining -= 1
                if remaining == 0 { completion(counts) }
            }
        }
    }

    /// Consumers idle for more than twice `claim_idle_ms` with nothing pending are gone.
    private func removeGoneConsumers(_ stream: String) {
        let limit = 2 * configuration.region.consumer.claimIdleMs
        let arguments: [RedisArgument] = [.string(group), .string(configuration.consumerName), .integer(Int64(limit))]
        commands.run(StreamScripts.removeGoneConsumers, keys: [stream], arguments: arguments) {
            [unowned self] result in
            guard case .success(let reply) = result else { return }
            for name in (reply.array ?? []).compactMap(\.string) {
                statistics.consumersRemoved += 1
                logger.info("removed gone consumer", metadata: ["stream": "\(stream)", "consumer": "\(name)"])
            }
        }
    }
}
