import BusPostgres
import Testing

@Suite("PostgresConnectionStateMachine")
struct PostgresConnectionStateMachineTests {
    private func readyMachine() -> PostgresConnectionStateMachine {
        var machine = PostgresConnectionStateMachine()
        _ = machine.start()
        _ = machine.connectSucceeded()
        return machine
    }

    @Test("start connects once; success makes it ready")
    func startAndConnect() {
        var machine = PostgresConnectionStateMachine()
        #expect(machine.start() == .connect)
        #expect(machine.state == .connecting(attempt: 1))
        #expect(machine.start() == .none)
        #expect(machine.connectSucceeded() == .becameReady)
        #expect(machine.isReady)
    }

    @Test("failed connect attempts back off with growing attempts and no query to fail")
    func failedConnectsBackOff() {
        var machine = PostgresConnectionStateMachine()
        _ = machine.start()
        #expect(machine.connectFailed() == .reconnect(attempt: 1, wasReady: false, failing: nil))
        #expect(machine.state == .waitingToReconnect(attempt: 2))
        #expect(machine.reconnectTimerFired() == .connect)
        #expect(machine.connectFailed() == .reconnect(attempt: 2, wasReady: false, failing: nil))
        #expect(machine.reconnectTimerFired() == .connect)
        #expect(machine.connectSucceeded() == .becameReady)
    }

    @Test("a broken socket while connecting counts as a failed attempt")
    func lostWhileConnecting() {
        var machine = PostgresConnectionStateMachine()
        _ = machine.start()
        #expect(machine.connectionLost() == .reconnect(attempt: 1, wasReady: false, failing: nil))
    }

    @Test("one query at a time: a second request is refused while the first runs")
    func oneQueryInFlight() {
        var machine = readyMachine()
        #expect(machine.queryRequested() == .sendQuery)
        #expect(machine.state == .executing)
        #expect(machine.queryRequested() == .rejectQuery(.unavailable))
        #expect(machine.queryFinished() == .completeQuery)
        #expect(machine.isReady)
        #expect(machine.queryRequested() == .sendQuery)
    }

    @Test("queries are refused while not connected", arguments: ["idle", "connecting", "waiting", "closed"])
    func refusedWhenNotConnected(state: String) {
        var machine = PostgresConnectionStateMachine()
        switch state {
        case "connecting":
            _ = machine.start()
        case "waiting":
            _ = machine.start()
            _ = machine.connectFailed()
        case "closed":
            _ = machine.close()
        default:
            break
        }
        #expect(machine.queryRequested() == .rejectQuery(.unavailable))
    }

    @Test("a timed-out query fails with .timedOut and the connection is reopened at once")
    func queryTimeout() {
        var machine = readyMachine()
        _ = machine.queryRequested()
        #expect(machine.queryTimedOut() == .reconnect(attempt: 0, wasReady: true, failing: .timedOut))
        #expect(machine.state == .waitingToReconnect(attempt: 1))
        // A late result or a second timer after the timeout changes nothing.
        #expect(machine.queryFinished() == .none)
        #expect(machine.queryTimedOut() == .none)
        #expect(machine.reconnectTimerFired() == .connect)
        #expect(machine.connectSucceeded() == .becameReady)
    }

    @Test("a lost link fails the query in flight with .connectionLost")
    func lostWhileExecuting() {
        var machine = readyMachine()
        _ = machine.queryRequested()
        #expect(machine.connectionLost() == .reconnect(attempt: 0, wasReady: true, failing: .connectionLost))
    }

    @Test("a lost idle link reconnects at once with nothing to fail")
    func lostWhileIdle() {
        var machine = readyMachine()
        #expect(machine.connectionLost() == .reconnect(attempt: 0, wasReady: true, failing: nil))
        #expect(machine.connectionLost() == .none)
    }

    @Test("after a lost link, failed reconnects back off from the first attempt")
    func backoffRestartsAfterLoss() {
        var machine = readyMachine()
        _ = machine.connectionLost()
        _ = machine.reconnectTimerFired()
        #expect(machine.connectFailed() == .reconnect(attempt: 1, wasReady: false, failing: nil))
    }

    @Test("close tears down once and fails a query in flight with .unavailable")
    func close() {
        var machine = readyMachine()
        _ = machine.queryRequested()
        #expect(machine.close() == .tearDown(failing: .unavailable))
        #expect(machine.close() == .none)
        #expect(machine.reconnectTimerFired() == .none)
        #expect(machine.connectSucceeded() == .none)

        var idle = readyMachine()
        #expect(idle.close() == .tearDown(failing: nil))
    }
}
