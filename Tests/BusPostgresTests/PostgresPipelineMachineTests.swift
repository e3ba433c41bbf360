import BusPostgres
import Testing

@Suite("Pipeline mode in the connection and pool state machines")
struct PostgresPipelineMachineTests {
    typealias Pool = PostgresPoolStateMachine
    typealias ConnectionID = Pool.ConnectionID
    typealias WaiterID = Pool.WaiterID

    private func readyConnection(depth: Int) -> PostgresConnectionStateMachine {
        var machine = PostgresConnectionStateMachine(pipelineDepth: depth)
        _ = machine.start()
        _ = machine.connectSucceeded()
        return machine
    }

    @Test("up to pipelineDepth queries in flight; each finish completes the oldest")
    func depthBound() {
        var machine = readyConnection(depth: 3)
        for count in 1...3 {
            #expect(machine.queryRequested() == .sendQuery)
            #expect(machine.inFlight == count)
        }
        #expect(!machine.hasCapacity)
        #expect(machine.queryRequested() == .rejectQuery(.unavailable))
        #expect(machine.queryFinished() == .completeQuery)
        #expect(machine.state == .executing)
        #expect(machine.hasCapacity && !machine.isReady)
        #expect(machine.queryRequested() == .sendQuery)
        for _ in 1...3 { #expect(machine.queryFinished() == .completeQuery) }
        #expect(machine.isReady && machine.inFlight == 0)
        #expect(machine.queryFinished() == .none)
    }

    @Test("a lost link or a timeout fails every query in flight at once and empties the pipeline")
    func lossFailsEveryQuery() {
        var lost = readyConnection(depth: 4)
        for _ in 1...3 { _ = lost.queryRequested() }
        #expect(lost.connectionLost() == .reconnect(attempt: 0, wasReady: true, failing: .connectionLost))
        #expect(lost.inFlight == 0 && !lost.hasCapacity)
        #expect(lost.queryRequested() == .rejectQuery(.unavailable))
        #expect(lost.reconnectTimerFired() == .connect)
        #expect(lost.connectSucceeded() == .becameReady)
        #expect(lost.queryRequested() == .sendQuery && lost.inFlight == 1)

        var timedOut = readyConnection(depth: 4)
        for _ in 1...2 { _ = timedOut.queryRequested() }
        #expect(timedOut.queryTimedOut() == .reconnect(attempt: 0, wasReady: true, failing: .timedOut))
        #expect(timedOut.inFlight == 0)

        var closed = readyConnection(depth: 4)
        for _ in 1...2 { _ = closed.queryRequested() }
        #expect(closed.close() == .tearDown(failing: .unavailable))
        #expect(closed.inFlight == 0)
    }

    @Test("depth 1 keeps libpq's one query at a time")
    func depthOne() {
        var machine = readyConnection(depth: 1)
        #expect(machine.queryRequested() == .sendQuery)
        #expect(!machine.hasCapacity)
        #expect(machine.queryRequested() == .rejectQuery(.unavailable))
    }

    /// A pool of `connections` (all up and idle) sharing each up to `shares` times.
    private func upPool(connections: Int, shares: Int) -> (Pool, [ConnectionID]) {
        var machine = Pool(
            maxConnections: connections, minConnections: connections, maxWaiters: 100, sharesPerConnection: shares)
        let opened = machine.start()
        for connection in opened { _ = machine.connectionUp(connection) }
        return (machine, opened)
    }

    private func leased(_ action: Pool.LeaseAction) -> ConnectionID? {
        guard case .lease(let connection) = action else { return nil }
        return connection
    }

    @Test("shared leases spread over idle connections first, then share the least loaded, then wait")
    func sharedLeasesSpread() {
        var (machine, opened) = upPool(connections: 2, shares: 2)
        let first = leased(machine.leaseRequested(deadline: 1_000, shared: true))
        let second = leased(machine.leaseRequested(deadline: 1_000, shared: true))
        #expect(Set([first, second].compactMap { $0 }) == Set(opened))
        let third = leased(machine.leaseRequested(deadline: 1_000, shared: true))
        let fourth = leased(machine.leaseRequested(deadline: 1_000, shared: true))
        #expect(Set([third, fourth].compactMap { $0 }) == Set(opened))
        #expect(machine.statistics == .init(connections: 2, idle: 0, inUse: 2, waiting: 0, up: 2))
        guard case .wait(let waiter, let open) = machine.leaseRequested(deadline: 1_000, shared: true) else {
            Issue.record("a fifth shared lease on 2 × 2 shares must wait")
            return
        }
        #expect(open == nil)
        // One share freed: the waiter takes it at once.
        #expect(machine.connectionReleased(opened[0]) == .share(opened[0], with: [waiter]))
        #expect(machine.statistics.waiting == 0)
    }

    @Test("an exclusive lease never gets a connection somebody shares, and shared waiters fill a freed one")
    func exclusiveWaitsForAFreeConnection() {
        var (machine, opened) = upPool(connections: 1, shares: 3)
        let connection = opened[0]
        #expect(machine.leaseRequested(deadline: 1_000, shared: true) == .lease(connection))
        guard case .wait(let exclusive, _) = machine.leaseRequested(deadline: 1_000) else {
            Issue.record("the exclusive lease must wait")
            return
        }
        // Behind the exclusive waiter, shared requests queue too (FIFO): nobody overtakes it.
        guard case .wait(let sharedA, _) = machine.leaseRequested(deadline: 1_000, shared: true),
            case .wait(let sharedB, _) = machine.leaseRequested(deadline: 1_000, shared: true),
            case .wait(let sharedC, _) = machine.leaseRequested(deadline: 1_000, shared: true),
            case .wait(let sharedD, _) = machine.leaseRequested(deadline: 1_000, shared: true)
        else {
            Issue.record("shared requests behind an exclusive waiter must wait")
            return
        }
        #expect(machine.connectionReleased(connection) == .lease(connection, to: exclusive))
        #expect(machine.connectionReleased(connection) == .share(connection, with: [sharedA, sharedB, sharedC]))
        #expect(machine.statistics.waiting == 1)
        #expect(machine.connectionReleased(connection) == .share(connection, with: [sharedD]))
        for _ in 1...3 { _ = machine.connectionReleased(connection) }
        #expect(machine.statistics == .init(connections: 1, idle: 1, inUse: 0, waiting: 0, up: 1))
        #expect(machine.leaseRequested(deadline: 1_000) == .lease(connection))
    }

    @Test("without sharesPerConnection a shared request is an ordinary exclusive lease")
    func noSharingByDefault() {
        var (machine, opened) = upPool(connections: 1, shares: 1)
        #expect(machine.leaseRequested(deadline: 1_000, shared: true) == .lease(opened[0]))
        guard case .wait(let waiter, _) = machine.leaseRequested(deadline: 1_000, shared: true) else {
            Issue.record("must wait")
            return
        }
        #expect(machine.connectionReleased(opened[0]) == .lease(opened[0], to: waiter))
    }

    @Test("a shared connection that reconnects takes no new shares until it is up again")
    func reconnectingSharedConnection() {
        var (machine, opened) = upPool(connections: 1, shares: 2)
        let connection = opened[0]
        _ = machine.leaseRequested(deadline: 1_000, shared: true)
        _ = machine.leaseRequested(deadline: 1_000, shared: true)
        #expect(machine.connectionReconnecting(connection) == .none)
        guard case .wait(let waiter, _) = machine.leaseRequested(deadline: 1_000, shared: true) else {
            Issue.record("must wait while the connection reconnects")
            return
        }
        #expect(machine.connectionReleased(connection) == .none)
        #expect(machine.connectionReleased(connection) == .none)
        #expect(machine.connectionUp(connection) == .share(connection, with: [waiter]))
    }
}
