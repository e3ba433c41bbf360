import BusDomain
import BusLoop
import BusRedis
import BusRegions
import BusStreams
import Logging

/// Reads a region's biome streams in its consumer group and runs a handler on each entry,
/// performing what `ConsumerStateMachine` decides. Everything runs on one loop.
///
/// Two Redis connections: one only for the blocking XREADGROUP, one for everything else, so a
/// read blocked for `block_ms` never delays an acknowledgement.
///
/// The driver keeps one `HeldEntry` per entry the machine holds (created when the machine
/// first asks to handle it, released when the machine lets it go, both in `followMachine`), one
/// `StreamState` per stream, and the group setup; everything else is the machine's.
package final class RegionConsumer {
    package struct Configuration: Sendable {
        package var region: RegionConfig
        package var biomes: [BiomeID]
        package var consumerName: String
        /// The region's `handler_timeout_ms`.
        package var handlerTimeout: Duration
        /// How often idle entries of other consumers are looked for: every blocking read (but
        /// at least twice per `claim_idle_ms`), 100 ms … 10 s. A claim that comes due waits for
        /// the read in progress, so a dead consumer's entries are taken within `claim_idle_ms`
        /// plus about one read cycle.
        package var reclaimInterval: Duration
        /// How long a retry after a Redis failure (read, group creation) waits at most.
        package var redisRetryBackoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(5))

        package init(region: RegionConfig, biomes: [BiomeID], consumerName: String) {
            self.region = region
            self.biomes = biomes
            self.consumerName = consumerName
            handlerTimeout = .milliseconds(region.consumer.handlerTimeoutMs)
            let half = region.consumer.claimIdleMs / 2
            reclaimInterval = .milliseconds(min(max(min(half, region.consumer.blockMs), 100), 10_000))
        }
    }

    package let loop: EventLoop
    package let configuration: Configuration
    package private(set) var statistics = ConsumerStatistics()
    /// Called after each change of what is held, for gauges.
    package var onProgress: ((RegionConsumer) -> Void)?
    /// Called with each handler run's duration in seconds.
    package var onHandlerDuration: ((Double) -> Void)?

    private let handler: DeliveryHandler
    private let logger: Logger
    private var machine: ConsumerStateMachine
    private let reads: any StreamsConnection
    private let commands: any StreamsConnection
    /// Made the two connections (nil for given ones); follows a Sentinel region's master.
    private var connector: RedisConnector?
    private var group: String { configuration.region.consumer.group }

    /// One record per entry the machine holds, and no other (see `followMachine`).
    private(set) var entries: [EntryKey: HeldEntry] = [:]
    /// The streams in configuration order (biomes deduplicated).
    private var streams: [StreamState]
    /// Index into `streams` by stream key (read and claim replies name the stream).
    private let streamIndex: [String: Int]
    /// Index into `streams` by biome (acknowledgements know the entry's biome).
    private let streamOfBiome: [BiomeID: Int]
    private(set) var groups = GroupSetup.unknown
    private var readFailures = 0
    /// Where the next partial read starts, so that no stream is starved when slots are few.
    private var readRotation = 0
    /// Some stream has acknowledgements due and `ackTimer` is armed to send them.
    private var acksQueued = false
    /// Backoff jitter; its own state, not the zero-size system generator (see `JitterRandom`).
    private var random = JitterRandom()
    private lazy var ackTimer = LoopTimer(loop: loop) { [unowned self] in self.flushAcknowledgements() }
    private lazy var readRetryTimer = LoopTimer(loop: loop) { [unowned self] in self.resumeReading() }
    private lazy var groupRetryTimer = LoopTimer(loop: loop) { [unowned self] in self.ensureGroups() }
    private lazy var reclaimTimer = LoopTimer(loop: loop) { [unowned self] in self.reclaimRound() }
    private var stopped: (() -> Void)?

    /// A consumer on two new connections to the region's Redis.
    package convenience init(loop: EventLoop, configuration: Configuration, handler: DeliveryHandler, logger: Logger) {
        let consumer = configuration.region.consumer
        let address = configuration.region.redis
        let connector = RedisConnector(loop: loop)
        self.init(
            loop: loop, configuration: configuration, handler: handler, logger: logger,
            connections: (
                // A blocking read legitimately waits block_ms; only past that is Redis unresponsive.
                reads: connector.connection(to: address, commandTimeout: .milliseconds(consumer.blockMs) + .seconds(2)),
                commands: connector.connection(
                    to: address, commandTimeout: .seconds(2),
                    maxOutstanding: Self.commandCap(
                        maxInFlight: consumer.maxInFlight, streams: Set(configuration.biomes).count))
            ))
        self.connector = connector
    }

    /// A consumer on the given connections (not started yet; `start()` starts them).
    init(
        loop: EventLoop, configuration: Configuration, handler: DeliveryHandler, logger: Logger,
        connections: (reads: any StreamsConnection, commands: any StreamsConnection)
    ) {
        self.loop = loop
        self.configuration = configuration
        self.handler = handler
        self.logger = logger
        let consumer = configuration.region.consumer
        machine = ConsumerStateMachine(
            maxInFlight: consumer.maxInFlight, maxDeliveries: consumer.maxDeliveries, backoff: consumer.backoff,
            streams: configuration.biomes.count)
        reads = connections.reads
        commands = connections.commands
        var seen = Set<BiomeID>()
        let streams = configuration.biomes.filter { seen.insert($0).inserted }.map(StreamState.init(biome:))
        self.streams = streams
        streamIndex = Dictionary(uniqueKeysWithValues: streams.indices.map { (streams[$0].key, $0) })
        streamOfBiome = Dictionary(uniqueKeysWithValues: streams.indices.map { (streams[$0].biome, $0) })
        reads.onReadinessChange = { [unowned self] ready in
            if ready { self.resumeReading() }
        }
        commands.onReadinessChange = { [unowned self] ready in
            if ready && self.groups != .ready { self.ensureGroups() }
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
        max(RedisConnectionConfiguration.defaultMaxOutstanding, 2 * maxInFlight + 3 * streams + 16)
    }

    /// Entries held now; never more than `max_in_flight`.
    package var inFlight: Int { machine.held }
    package var isConnected: Bool { reads.isReady && commands.isReady }
    /// Why a connection that is not ready last failed (the command connection's error first);
    /// nil while both are ready or before either has failed. For `/readyz`.
    package var lastError: String? {
        if !commands.isReady, let error = commands.lastError { return error }
        if !reads.isReady, let error = reads.lastError { return error }
        return nil
    }

    package func start() {
        loop.assertInLoop()
        connector?.start()
        reads.start()
        commands.start()
        reclaimTimer.schedule(after: configuration.reclaimInterval)
    }

    /// Stops reading, lets handlers finish (acknowledging successes), leaves the rest pending
    /// for other consumers, then calls `done`. The caller bounds the wait with its own timeout
    /// and calls `close()` after it.
    package func stop(then done: @escaping () -> Void) {
        loop.assertInLoop()
        stopped = done
        reclaimTimer.cancel()
        readRetryTimer.cancel()
        let actions = machine.stop()
        // The machine let go of the entries waiting to retry: their records and timers go
        // before the read below fails, whose handling checks records against the machine.
        followMachine(touching: Array(entries.keys))
        // Closing the read connection ends a blocked XREADGROUP now instead of after block_ms.
        reads.close()
        perform(actions)
    }

    /// Closes both connections (after `stop`, or when giving up on a drain).
    package func close() {
        reads.close()
        commands.close()
        connector?.close()
        ackTimer.cancel()
        readRetryTimer.cancel()
        groupRetryTimer.cancel()
        reclaimTimer.cancel()
        for key in entries.keys { entries[key]?.cancelTimers() }
    }

    // MARK: - Groups and reading

    private func ensureGroups() {
        guard commands.isReady else { return }
        let failures: Int
        switch groups {
        case .unknown: failures = 0
        case .retrying(let earlier): failures = earlier
        // A round is out (its outcome decides), or the groups exist.
        case .creating, .ready: return
        }
        groupRetryTimer.cancel()
        groups = .creating(failures: failures)
        var remaining = streams.count
        var failed = false
        for stream in streams {
            commands.send(XGroupCreate(stream: stream.key, group: group)) { [unowned self] result in
                // A group that exists already (BUSYGROUP) is success: XGroupCreate answers `.existed`.
                if case .failure(let error) = result {
                    failed = true
                    self.logger.warning(
                        "cannot create consumer group", metadata: ["stream": "\(stream.key)", "error": "\(error)"])
                }
                remaining -= 1
                guard remaining == 0 else { return }
                if failed {
                    self.retryGroups(failures: failures + 1)
                } else {
                    self.groups = .ready
                    self.resumeReading()
                }
            }
        }
    }

    private func retryGroups(failures: Int) {
        groups = .retrying(failures: failures)
        groupRetryTimer.schedule(after: configuration.redisRetryBackoff.delay(attempt: failures, using: &random))
    }

    private func resumeReading() {
        guard groups == .ready, reads.isReady, !machine.isStopping else { return }
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
            blockMs: configuration.region.consumer.blockMs, streams: plan.streams.map { streams[$0].key })
        reads.send(command) { [unowned self] result in
            switch result {
            case .success(let read):
                readFailures = 0
                var keys: [EntryKey] = []
                var arrivals: [EntryKey: [String: String]] = [:]
                for batch in read.batches {
                    guard let index = streamIndex[batch.stream] else { continue }
                    for entry in batch.entries {
                        let key = EntryKey(biome: streams[index].biome, id: entry.id)
                        arrivals[key] = entry.fields ?? [:]
                        keys.append(key)
                    }
                }
                perform(machine.readFinished(keys, reservedCount: count), arrivals: arrivals)
            case .failure(let error):
                perform(machine.readFailed(reservedCount: count))
                guard !machine.isStopping else { return }
                if error.serverCode == .noGroup {
                    // The stream (and its group) vanished: deleted or evicted. Re-create it after
                    // a backoff rather than in a hot loop; reading resumes once it exists.
                    logger.warning(
                        "consumer group missing; re-creating", metadata: ["error": "\(error.serverText ?? "")"])
                    retryGroups(failures: 1)
                } else {
                    scheduleReadRetry()
                }
            }
        }
    }

    // MARK: - Performing actions

    /// Performs the machine's `actions` for an event about `keys`. First the records follow the
    /// machine (`followMachine`; fields of new entries from `arrivals`, the reply that brought
    /// them in), so even an action that completes synchronously finds them as the machine has them.
    private func perform(
        _ actions: [ConsumerStateMachine.Action], touching keys: [EntryKey] = [],
        arrivals: [EntryKey: [String: String]] = [:]
    ) {
        followMachine(touching: keys, starting: actions, arrivals: arrivals)
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
        // Comparing the key sets costs O(held) per step: with a large max_in_flight that made
        // debug builds quadratic (1,200 held entries slowed a reclaim past claim_idle_ms). Counts
        // always, the sets themselves while they are small (every driver unit test).
        assert(
            entries.count == machine.held && (entries.count > 64 || Set(entries.keys) == Set(machine.heldKeys)),
            "driver records differ from the machine's held entries")
        onProgress?(self)
    }

    /// Makes the records match the machine after an event about `keys`: the one place records
    /// are created (for entries `actions` start handling) and released (`keys` no longer held).
    private func followMachine(
        touching keys: [EntryKey], starting actions: [ConsumerStateMachine.Action] = [],
        arrivals: [EntryKey: [String: String]] = [:]
    ) {
        for key in keys where !machine.isHeld(key) { release(key) }
        for case .handle(let key, _, _) in actions where entries[key] == nil {
            entries[key] = HeldEntry(fields: arrivals[key] ?? [:])
        }
    }

    /// Drops a record the machine no longer holds; its timers are cancelled with it.
    private func release(_ key: EntryKey) {
        guard var entry = entries.removeValue(forKey: key) else { return }
        entry.cancelTimers()
    }

    private func handle(_ key: EntryKey, deliveries: Int, run: Int) {
        guard var entry = entries[key] else { return assertionFailure("handle \(key) without a record") }
        let timer = LoopTimer(loop: loop) { [unowned self] in
            self.handlerFinished(key, run: run, result: .failure(HandlerFailure("handler timed out")))
        }
        timer.schedule(after: configuration.handlerTimeout)
        entry.handlerTimer?.cancel()
        entry.handlerTimer = timer
        entry.handlerStartedAt = Clocks.monotonicNanoseconds()
        entries[key] = entry
        let delivery = Delivery(key: key, fields: entry.fields, deliveries: deliveries)
        handler.handle(delivery) { [weak self] result in
            self?.handlerFinished(key, run: run, result: result)
        }
    }

    private func handlerFinished(_ key: EntryKey, run: Int, result: Result<Void, HandlerFailure>) {
        loop.assertInLoop()
        // A completion after its timeout (or after the entry was released) is ignored.
        guard machine.isCurrent(key, run: run), var entry = entries[key] else { return }
        entry.handlerTimer?.cancel()
        entry.handlerTimer = nil
        let started = entry.handlerStartedAt
        entry.handlerStartedAt = nil
        entries[key] = entry
        if let started {
            let seconds = Double(Clocks.monotonicNanoseconds() &- started) / 1e9
            statistics.handlerSecondsTotal += seconds
            onHandlerDuration?(seconds)
        }
        switch result {
        case .success:
            statistics.handled += 1
            perform(machine.handled(key, run: run, succeeded: true), touching: [key])
        case .failure(let failure):
            statistics.failed += 1
            logger.debug("handler failed", metadata: ["entry": "\(key)", "error": "\(failure)"])
            perform(
                machine.handled(
                    key, run: run, succeeded: false, transient: failure.isTransient, error: failure.description,
                    unit: jitterUnit()),
                touching: [key])
        }
    }

    /// Queues the acknowledgement; everything acknowledged in this loop pass goes out as one
    /// `XACK stream group id…` per stream at the end of the pass.
    private func acknowledge(_ key: EntryKey) {
        guard let index = streamOfBiome[key.biome] else { return assertionFailure("no stream for \(key)") }
        streams[index].acksDue.append(key.id)
        if !acksQueued {
            acksQueued = true
            ackTimer.schedule(after: .zero)
        }
    }

    private func flushAcknowledgements() {
        acksQueued = false
        for index in streams.indices where !streams[index].acksDue.isEmpty {
            let stream = streams[index]
            streams[index].acksDue = []
            let keys = stream.acksDue.map { EntryKey(biome: stream.biome, id: $0) }
            commands.send(XAck(stream: stream.key, group: group, ids: stream.acksDue)) { [unowned self] result in
                if case .failure(let error) = result {
                    logger.warning(
                        "XACK failed; the entries stay pending and will be handled again",
                        metadata: ["stream": "\(stream.key)", "count": "\(keys.count)", "error": "\(error)"])
                }
                perform(machine.settled(keys), touching: keys)
            }
        }
    }

    private func scheduleRetry(_ key: EntryKey, delayMs: Double) {
        guard var entry = entries[key] else { return assertionFailure("retry \(key) without a record") }
        let timer =
            entry.retryTimer
            ?? LoopTimer(loop: loop) { [unowned self] in
                self.perform(self.machine.retryDue(key), touching: [key])
            }
        entry.retryTimer = timer
        entries[key] = entry
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
            let actions: [ConsumerStateMachine.Action]
            switch result {
            case .success(.null):
                statistics.lostOwnership += 1
                actions = machine.claimedForRetry(key, present: false)
            case .success(let reply) where !countsDelivery:
                // JUSTID answers ids only; a trimmed entry is left out (and dropped from the PEL).
                if (reply.array ?? []).contains(where: { $0.string == key.id }) {
                    actions = machine.claimedForRetry(key, present: true)
                } else {
                    statistics.trimmed += 1
                    actions = machine.claimedForRetry(key, present: false)
                }
            case .success(let reply):
                let entry = (reply.array ?? []).lazy.compactMap(StreamEntry.init(reply:)).first { $0.id == key.id }
                if let entry, let entryFields = entry.fields {
                    entries[key]?.fields = entryFields
                    actions = machine.claimedForRetry(key, present: true)
                } else {
                    statistics.trimmed += 1
                    actions = machine.claimedForRetry(key, present: false)
                }
            case .failure:
                actions = machine.claimForRetryFailed(key, unit: jitterUnit())
            }
            perform(actions, touching: [key])
        }
    }

    /// Copies the entry to `EVDLQ:<biome>` and acknowledges it in one script, so it is never
    /// both dead and pending, nor lost between the two; and only while this consumer still owns
    /// it, so an entry another consumer reclaimed (and may have handled) is not dead-lettered.
    private func deadLetter(_ key: EntryKey, deliveries: Int, error: String) {
        var arguments: [RedisArgument] = [.string(group), .string(key.id), .string(configuration.consumerName)]
        for (name, value) in (entries[key]?.fields ?? [:]).sorted(by: { $0.key < $1.key }) {
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
            perform(machine.settled(key), touching: [key])
        }
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

    /// An entry a reclaim brought in: its delivery count (this delivery included) and fields.
    private struct Reclaimed {
        let key: EntryKey
        let deliveries: Int
        let fields: [String: String]
    }

    /// Every `reclaimInterval` a claim comes due; the state machine sends it once slots are free.
    private func reclaimRound() {
        reclaimTimer.schedule(after: configuration.reclaimInterval)
        guard commands.isReady, groups == .ready else { return }
        for stream in streams { removeGoneConsumers(stream.key) }
        perform(machine.claimDue())
    }

    /// XAUTOCLAIM entries idle longer than `claim_idle_ms` (from any consumer, this one's
    /// previous life included) into the `count` reserved slots, stream by stream.
    private func claim(count: Int) {
        var claimed: [Reclaimed] = []
        func next(_ index: Int) {
            let remaining = count - claimed.count
            guard index < streams.count, remaining > 0, !machine.isStopping else {
                if !claimed.isEmpty {
                    statistics.reclaimed += claimed.count
                    logger.info("reclaimed idle entries", metadata: ["count": "\(claimed.count)"])
                }
                let arrivals = Dictionary(claimed.map { ($0.key, $0.fields) }) { first, _ in first }
                let actions = machine.claimed(claimed.map { ($0.key, $0.deliveries) }, reservedCount: count)
                perform(actions, arrivals: arrivals)
                return
            }
            claimStream(index, limit: remaining) { entries in
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
    private func claimStream(_ index: Int, limit: Int, _ completion: @escaping ([Reclaimed]) -> Void) {
        var collected: [Reclaimed] = []
        var calls = 0
        func step() {
            let remaining = limit - collected.count
            let cursor = streams[index].claimCursor
            // Bounded per round; the cursor carries the rest of a long scan to the next round.
            guard remaining > 0, calls < Self.claimCallsPerRound, !machine.isStopping else {
                return completion(collected)
            }
            calls += 1
            claimOnce(index, from: cursor, limit: remaining) { [unowned self] next, entries in
                collected += entries
                streams[index].claimCursor = next ?? cursor
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
        _ index: Int, from cursor: String, limit: Int, _ completion: @escaping (String?, [Reclaimed]) -> Void
    ) {
        let stream = streams[index]
        let command = XAutoClaim(
            stream: stream.key, group: group, consumer: configuration.consumerName,
            minIdleMs: configuration.region.consumer.claimIdleMs, start: cursor, count: limit)
        commands.send(command) { [unowned self] result in
            guard case .success(let reclaimed) = result else { return completion(nil, []) }
            // Redis 7 drops pending ids whose entry was trimmed and lists them separately.
            statistics.trimmed += reclaimed.deletedIDs.count
            let present = reclaimed.entries.compactMap { entry in entry.fields.map { (entry.id, $0) } }
            statistics.trimmed += reclaimed.entries.count - present.count
            guard !present.isEmpty else { return completion(reclaimed.cursor, []) }
            // XAUTOCLAIM does not say how often each entry was delivered; XPENDING does, one
            // exact range per id (pipelined; reclaims are rare).
            deliveryCounts(stream.key, ids: present.map(\.0)) { counts in
                let entries = present.map { id, fields in
                    // Unknown only if Redis failed to answer: assume this claim was a second delivery.
                    Reclaimed(key: EntryKey(biome: stream.biome, id: id), deliveries: counts[id] ?? 2, fields: fields)
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
