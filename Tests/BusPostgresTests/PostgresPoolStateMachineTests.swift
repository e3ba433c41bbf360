import BusPostgres
import Testing

@Suite("PostgresPoolStateMachine")
struct PostgresPoolStateMachineTests {
    typealias Machine = PostgresPoolStateMachine
    typealias ConnectionID = Machine.ConnectionID
    typealias WaiterID = Machine.WaiterID

    /// Requests a lease and returns the waiter (and connection to open) it was queued as.
    private func waitFor(_ machine: inout Machine, deadline: UInt64 = 1_000) -> (WaiterID, ConnectionID?) {
        guard case .wait(let waiter, let open) = machine.leaseRequested(deadline: deadline) else {
            Issue.record("expected the request to wait")
            return (WaiterID(-1), nil)
        }
        return (waiter, open)
    }

    @Test("the first request opens a connection and is served when it comes up")
    func lazyOpen() {
        var machine = Machine(maxConnections: 2, maxWaiters: 10)
        #expect(machine.start().isEmpty)
        let (waiter, open) = waitFor(&machine)
        let connection = try! #require(open)
        #expect(machine.statistics == .init(connections: 1, idle: 0, inUse: 0, waiting: 1, up: 0))
        #expect(machine.connectionUp(connection) == .lease(connection, to: waiter))
        #expect(machine.statistics == .init(connections: 1, idle: 0, inUse: 1, waiting: 0, up: 1))
        #expect(machine.connectionReleased(connection) == .none)
        #expect(machine.statistics.idle == 1)
        #expect(machine.leaseRequested(deadline: 1_000) == .lease(connection))
    }

    @Test("minConnections are opened at start and kept idle")
    func warmConnections() {
        var machine = Machine(maxConnections: 4, minConnections: 2, maxWaiters: 10)
        let opened = machine.start()
        #expect(opened.count == 2)
        for connection in opened { #expect(machine.connectionUp(connection) == .none) }
        #expect(machine.statistics.idle == 2)
        #expect(machine.start().isEmpty)
    }

    @Test("never more than maxConnections, and no connection beyond the waiters to serve")
    func connectionBound() {
        var machine = Machine(maxConnections: 3, maxWaiters: 100)
        var opened: [ConnectionID] = []
        for _ in 0..<10 {
            if let open = waitFor(&machine).1 { opened.append(open) }
        }
        #expect(opened.count == 3)
        #expect(machine.statistics.connections == 3)

        // One waiter, one connection still coming up: no second connection for it.
        var single = Machine(maxConnections: 3, maxWaiters: 100)
        #expect(waitFor(&single).1 != nil)
        #expect(machine.statistics.connections == 3)
        #expect(single.statistics.connections == 1)
    }

    @Test("waiters are served in FIFO order as connections are released")
    func fifo() {
        var machine = Machine(maxConnections: 1, maxWaiters: 10)
        let (first, open) = waitFor(&machine)
        let connection = open!
        let (second, _) = waitFor(&machine)
        let (third, _) = waitFor(&machine)
        #expect(machine.connectionUp(connection) == .lease(connection, to: first))
        #expect(machine.connectionReleased(connection) == .lease(connection, to: second))
        #expect(machine.connectionReleased(connection) == .lease(connection, to: third))
        #expect(machine.connectionReleased(connection) == .none)
        #expect(machine.statistics == .init(connections: 1, idle: 1, inUse: 0, waiting: 0, up: 1))
    }

    @Test("a full queue refuses with .poolExhausted")
    func boundedQueue() {
        var machine = Machine(maxConnections: 1, maxWaiters: 2)
        _ = waitFor(&machine)
        _ = waitFor(&machine)
        #expect(machine.leaseRequested(deadline: 1_000) == .fail(.poolExhausted))
        #expect(machine.statistics.waiting == 2)
    }

    @Test("waiters past their deadline fail with .poolExhausted; later ones keep waiting")
    func deadlines() {
        var machine = Machine(maxConnections: 1, maxWaiters: 10)
        let (early, open) = waitFor(&machine, deadline: 100)
        let (late, _) = waitFor(&machine, deadline: 300)
        let (middle, _) = waitFor(&machine, deadline: 200)
        #expect(machine.nextDeadline == 100)
        #expect(machine.waitersExpired(now: 99) == .none)
        #expect(machine.waitersExpired(now: 200) == .fail([early, middle], .poolExhausted))
        #expect(machine.nextDeadline == 300)
        #expect(machine.connectionUp(open!) == .lease(open!, to: late))
        #expect(machine.waitersExpired(now: 1_000) == .none)
        #expect(machine.nextDeadline == nil)
    }

    @Test("an expired waiter is never served later")
    func expiredNotServed() {
        var machine = Machine(maxConnections: 1, maxWaiters: 10)
        let (waiter, open) = waitFor(&machine, deadline: 100)
        #expect(machine.waitersExpired(now: 100) == .fail([waiter], .poolExhausted))
        #expect(machine.connectionUp(open!) == .none)
        #expect(machine.statistics.idle == 1)
    }

    @Test("when every connection fails to connect, waiters and new requests fail fast with .unavailable")
    func downFailsFast() {
        var machine = Machine(maxConnections: 2, maxWaiters: 10)
        let (first, open) = waitFor(&machine)
        let (second, secondOpen) = waitFor(&machine)
        #expect(machine.connectionFailed(open!) == .none, "the second connection may still come up")
        #expect(machine.connectionFailed(secondOpen!) == .fail([first, second], .unavailable))
        #expect(!machine.isHealthy)
        #expect(machine.leaseRequested(deadline: 1_000) == .fail(.unavailable))
        // The connections keep retrying; the first one back serves again.
        #expect(machine.connectionUp(open!) == .none)
        #expect(machine.isHealthy)
        #expect(machine.leaseRequested(deadline: 1_000) == .lease(open!))
    }

    @Test("a connection that loses its link leaves the idle set until it is back")
    func reconnectingNotLeased() {
        var machine = Machine(maxConnections: 1, minConnections: 1, maxWaiters: 10)
        let connection = machine.start()[0]
        _ = machine.connectionUp(connection)
        #expect(machine.connectionReconnecting(connection) == .none)
        #expect(machine.statistics.idle == 0)
        #expect(!machine.isHealthy, "a lost link is the latest outcome")
        let (waiter, open) = waitFor(&machine)
        #expect(open == nil, "the pool is at its bound")
        #expect(machine.connectionUp(connection) == .lease(connection, to: waiter))
        #expect(machine.isHealthy)
    }

    @Test("readiness follows the latest outcome: a failed connect, a lost link, an answered statement")
    func healthFollowsLatestOutcome() {
        var machine = Machine(maxConnections: 2, minConnections: 2, maxWaiters: 10)
        let connections = machine.start()
        _ = machine.connectionUp(connections[0])
        _ = machine.connectionUp(connections[1])
        #expect(machine.isHealthy)
        // One connect failing while the other connection is up is already "not ready".
        _ = machine.connectionReconnecting(connections[1])
        #expect(!machine.isHealthy)
        _ = machine.connectionFailed(connections[1])
        #expect(!machine.isHealthy)
        // The next statement the server answers makes the pool ready at once, before the
        // failed connection's backoff has passed.
        machine.statementAnswered()
        #expect(machine.isHealthy)
        _ = machine.connectionFailed(connections[1])
        #expect(!machine.isHealthy)
        _ = machine.connectionUp(connections[1])
        #expect(machine.isHealthy)
    }

    @Test("a leased connection that broke is not idle on release; it rejoins when up")
    func releaseOfBrokenConnection() {
        var machine = Machine(maxConnections: 1, minConnections: 1, maxWaiters: 10)
        let connection = machine.start()[0]
        _ = machine.connectionUp(connection)
        #expect(machine.leaseRequested(deadline: 1_000) == .lease(connection))
        _ = machine.connectionReconnecting(connection)
        #expect(machine.connectionReleased(connection) == .none)
        #expect(machine.statistics.idle == 0)
        #expect(machine.connectionReleased(connection) == .none, "a second release is ignored")
        #expect(machine.connectionUp(connection) == .none)
        #expect(machine.statistics.idle == 1)
    }

    @Test("a connection that comes back while leased stays with its holder")
    func upWhileLeased() {
        var machine = Machine(maxConnections: 1, minConnections: 1, maxWaiters: 10)
        let connection = machine.start()[0]
        _ = machine.connectionUp(connection)
        _ = machine.leaseRequested(deadline: 1_000)
        _ = machine.connectionReconnecting(connection)
        #expect(machine.connectionUp(connection) == .none)
        #expect(machine.statistics.inUse == 1)
        #expect(machine.statistics.idle == 0)
    }

    @Test("close fails every waiter, closes every connection, then refuses")
    func close() {
        var machine = Machine(maxConnections: 2, maxWaiters: 10)
        let (first, open) = waitFor(&machine)
        let (second, _) = waitFor(&machine)
        let closed = machine.close()
        #expect(closed.waiters == [first, second])
        #expect(closed.connections.count == 2)
        #expect(closed.connections.contains(open!))
        #expect(machine.leaseRequested(deadline: 1_000) == .fail(.unavailable))
        #expect(machine.connectionUp(open!) == .none)
        #expect(machine.close().connections.isEmpty)
    }

    @Test("a pool without connections yet counts as healthy")
    func healthyBeforeConnecting() {
        let machine = Machine(maxConnections: 1, maxWaiters: 1)
        #expect(machine.isHealthy)
    }

    @Test("a failed connection retried early counts as starting: callers wait instead of failing fast")
    func retryingConnectionIsWaitedFor() {
        var machine = Machine(maxConnections: 1, minConnections: 1, maxWaiters: 10)
        let connection = machine.start()[0]
        _ = machine.connectionFailed(connection)
        #expect(machine.leaseRequested(deadline: 1_000) == .fail(.unavailable))
        machine.connectionRetrying(connection)
        let (waiter, open) = waitFor(&machine)
        #expect(open == nil)
        #expect(machine.connectionUp(connection) == .lease(connection, to: waiter))
    }
}
