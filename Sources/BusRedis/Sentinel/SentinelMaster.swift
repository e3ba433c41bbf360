import BusLoop

/// The master of one Sentinel-monitored group as seen from one event loop: performs the actions
/// of a `SentinelMasterStateMachine` with `RedisConnection`s.
///
/// - one query connection per Sentinel (`SENTINEL get-master-addr-by-name`, asked in turn,
///   each bounded by `timeout`);
/// - one subscription connection per Sentinel on `+switch-master`, so a failover is followed
///   when the Sentinels announce it rather than when something breaks;
/// - one connection to the candidate or master: `ROLE` before it is served, then every
///   `healthCheckInterval`; its loss, a failed check or a role other than master means the
///   master is lost.
///
/// Connections built with `RedisEndpoint.sentinelMaster(self)` observe it: they connect to
/// `master`, drop their connection when it changes, and report `READONLY`/`MASTERDOWN` back
/// through `serverRefused(_:code:)`. Use on the loop's thread only; `close()` before dropping.
package final class SentinelMaster {
    /// How the master is found and watched.
    package struct Configuration: Sendable {
        package var address: SentinelAddress
        /// Each Sentinel query, each connect and each `ROLE` (the contract's 1 s per call).
        package var timeout: Duration = .seconds(1)
        /// How often the served master's `ROLE` is checked.
        package var healthCheckInterval: Duration = .seconds(1)
        /// The pause after a round that found no master (doubling, with jitter).
        package var roundBackoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(1))

        package init(address: SentinelAddress) {
            self.address = address
        }
    }

    /// A registration made by `observe(_:)`.
    package struct Observation: Hashable, Sendable {
        fileprivate let id: Int
    }

    package let loop: EventLoop
    package let configuration: Configuration
    package var address: SentinelAddress { configuration.address }

    /// Called on the loop when the master starts being served or stops (nil), after observers.
    package var onReadinessChange: ((Bool) -> Void)?

    private var machine: SentinelMasterStateMachine
    private var queries: [RedisConnection] = []
    private var subscriptions: [RedisConnection] = []
    /// The connection to the candidate being verified or to the master being served.
    private var masterConnection: RedisConnection?
    /// Counts Sentinel queries; a reply to an older one is ignored.
    private var queryGeneration = 0
    private var healthCheckInFlight = false
    private var observers: [(id: Int, handler: (RedisServerAddress?) -> Void)] = []
    private var nextObserverID = 0
    private var announcedMaster: RedisServerAddress?
    private var random = JitterRandom()

    private lazy var roundTimer = LoopTimer(loop: loop) { [unowned self] in
        self.perform(self.machine.roundTimerFired())
    }
    private lazy var healthTimer = LoopTimer(loop: loop) { [unowned self] in self.checkHealth() }

    /// The most recent reason the master could not be found or was lost, for readiness reports.
    package private(set) var lastError: String?
    /// The served master's latest `ROLE` answer (its connected replicas, for `status`); nil
    /// while no master is served.
    package var masterRole: RedisRole? { machine.master == nil ? nil : lastRole }
    private var lastRole: RedisRole?

    package init(loop: EventLoop, configuration: Configuration) {
        self.loop = loop
        self.configuration = configuration
        machine = SentinelMasterStateMachine(sentinelCount: configuration.address.sentinels.count)
    }

    deinit {
        assert(queries.isEmpty && masterConnection == nil, "SentinelMaster dropped without close()")
    }

    /// The verified master commands may go to; nil while it is being looked for.
    package var master: RedisServerAddress? { machine.master }

    package var isReady: Bool { master != nil }

    /// The state, for diagnostics and tests.
    package var state: SentinelMasterStateMachine.State { machine.state }

    /// Calls `handler` on the loop with the new master each time it changes (nil: lost, being
    /// looked for). Not called for the current value.
    package func observe(_ handler: @escaping (RedisServerAddress?) -> Void) -> Observation {
        loop.assertInLoop()
        nextObserverID += 1
        observers.append((nextObserverID, handler))
        return Observation(id: nextObserverID)
    }

    package func stopObserving(_ observation: Observation) {
        loop.assertInLoop()
        observers.removeAll { $0.id == observation.id }
    }

    /// Starts looking for the master and listening to the Sentinels' announcements.
    package func start() {
        loop.assertInLoop()
        guard machine.state == .idle else { return }
        for sentinel in address.sentinels {
            var sentinelConfiguration = RedisConnectionConfiguration(host: sentinel.host, port: sentinel.port)
            sentinelConfiguration.commandTimeout = configuration.timeout
            sentinelConfiguration.connectTimeout = configuration.timeout
            sentinelConfiguration.maxOutstanding = 16
            sentinelConfiguration.reconnectBackoff = configuration.roundBackoff
            let query = RedisConnection(loop: loop, configuration: sentinelConfiguration)
            let subscription = RedisConnection(loop: loop, configuration: sentinelConfiguration)
            subscription.onReadinessChange = { [unowned subscription] ready in
                if ready { subscription.subscribe(SentinelProtocol.switchMasterChannel) }
            }
            subscription.onMessage = { [unowned self] channel, payload in
                guard channel == SentinelProtocol.switchMasterChannel, let text = payload.string,
                    let announcement = SentinelProtocol.switchMaster(message: text),
                    announcement.masterName == self.address.masterName
                else { return }
                self.perform(self.machine.switchAnnounced(newMaster: announcement.newMaster))
            }
            queries.append(query)
            subscriptions.append(subscription)
            query.start()
            subscription.start()
        }
        perform(machine.start())
    }

    /// Stops for good; observers hear nil if a master was being served.
    package func close() {
        loop.assertInLoop()
        perform(machine.close())
    }

    /// A connection to `server` got `READONLY` or `MASTERDOWN`: if that is the master being
    /// served, it has been demoted (or lost its own master), so look for the master again.
    package func serverRefused(_ server: RedisServerAddress, code: RedisErrorCode) {
        loop.assertInLoop()
        guard machine.master == server else { return }
        lostMaster("\(server) answered \(code)")
    }

    // MARK: - Acting on the state machine

    private func perform(_ action: SentinelMasterStateMachine.Action) {
        if action == .none { return }
        // Every action leaves the state the round timer or a Sentinel query in flight belonged
        // to (an announcement can end a wait or a query early): neither may reach the machine
        // any more, where it would be an illegal event.
        roundTimer.cancel()
        queryGeneration += 1
        switch action {
        case .none:
            return
        case .askSentinel(let index):
            dropMasterConnection()
            ask(sentinel: index)
        case .verify(let candidate):
            dropMasterConnection()
            verify(candidate)
        case .serve:
            lastError = nil
            healthTimer.schedule(after: configuration.healthCheckInterval)
        case .waitForNextRound(let failedRounds):
            dropMasterConnection()
            roundTimer.schedule(after: configuration.roundBackoff.delay(attempt: failedRounds, using: &random))
        case .tearDown:
            dropMasterConnection()
            for connection in queries + subscriptions { connection.close() }
            queries.removeAll()
            subscriptions.removeAll()
        }
        announceIfChanged()
    }

    /// Tells observers (the region's connections) first, so they drop a demoted master's
    /// connection before anyone reads readiness.
    private func announceIfChanged() {
        let current = machine.master
        guard current != announcedMaster else { return }
        let wasReady = announcedMaster != nil
        announcedMaster = current
        for observer in observers { observer.handler(current) }
        if wasReady != (current != nil) { onReadinessChange?(current != nil) }
    }

    private func ask(sentinel index: Int) {
        queryGeneration += 1
        let generation = queryGeneration
        let sentinel = address.sentinels[index]
        let query = SentinelProtocol.masterAddressQuery(masterName: address.masterName)
        queries[index].send(query, timeout: configuration.timeout) { [unowned self] result in
            guard generation == self.queryGeneration else { return }
            switch result.flatMap({ reply in
                Result { () throws(RedisError) in try SentinelProtocol.masterAddress(from: reply) }
            }) {
            case .success(let master?):
                self.perform(self.machine.sentinelAnswered(master: master))
            case .success(nil):
                self.lastError = "Sentinel \(sentinel) does not know master \(self.address.masterName)"
                self.perform(self.machine.sentinelFailed())
            case .failure(let error):
                self.lastError = "Sentinel \(sentinel): \(error)"
                self.perform(self.machine.sentinelFailed())
            }
        }
    }

    private func verify(_ candidate: RedisServerAddress) {
        var masterConfiguration = RedisConnectionConfiguration(
            host: candidate.host, port: candidate.port, database: address.database, username: address.username,
            password: address.password)
        masterConfiguration.commandTimeout = configuration.timeout
        masterConfiguration.connectTimeout = configuration.timeout
        masterConfiguration.maxOutstanding = 16
        let connection = RedisConnection(loop: loop, configuration: masterConfiguration)
        masterConnection = connection
        connection.onReadinessChange = { [unowned self, unowned connection] ready in
            // While verifying, the ROLE reply reports the failure; while serving, this is the
            // quickest sign the master is gone.
            guard !ready, self.masterConnection === connection, self.machine.master == candidate else { return }
            self.lostMaster("connection to master \(candidate) lost: \(connection.lastError ?? "")")
        }
        connection.start()
        // Held until the first connect attempt ends; fails with it (bounded by `timeout`).
        connection.send(SentinelProtocol.roleQuery, timeout: configuration.timeout) {
            [unowned self, unowned connection] result in
            guard self.masterConnection === connection else { return }
            switch Self.role(result) {
            case .success(let role) where role.isMaster:
                self.lastRole = role
                self.perform(self.machine.verified())
            case .success(let role):
                self.lastError = "\(candidate) is a \(role.name), not the master"
                self.perform(self.machine.verificationFailed())
            case .failure(let error):
                self.lastError = "\(candidate): ROLE failed: \(connection.lastError ?? error.description)"
                self.perform(self.machine.verificationFailed())
            }
        }
    }

    private func checkHealth() {
        guard let master = machine.master, let connection = masterConnection, !healthCheckInFlight else { return }
        healthCheckInFlight = true
        connection.send(SentinelProtocol.roleQuery, timeout: configuration.timeout) {
            [unowned self, unowned connection] result in
            guard self.masterConnection === connection else { return }
            self.healthCheckInFlight = false
            guard self.machine.master == master else { return }
            switch Self.role(result) {
            case .success(let role) where role.isMaster:
                self.lastRole = role
                self.healthTimer.schedule(after: self.configuration.healthCheckInterval)
            case .success(let role):
                self.lostMaster("\(master) is now a \(role.name)")
            case .failure(let error):
                self.lostMaster("\(master): ROLE failed: \(error)")
            }
        }
    }

    private func lostMaster(_ reason: String) {
        lastError = reason
        perform(machine.masterLost())
    }

    private func dropMasterConnection() {
        healthTimer.cancel()
        healthCheckInFlight = false
        guard let connection = masterConnection else { return }
        masterConnection = nil
        connection.onReadinessChange = nil
        connection.close()
    }

    private static func role(_ result: Result<RedisReply, RedisError>) -> Result<RedisRole, RedisError> {
        result.flatMap { reply in Result { () throws(RedisError) in try RedisRole(reply: reply) } }
    }
}
