import BusDomain
import BusLoop
import BusRedis
import BusRegions
import BusStreams

/// Redis for command-line tools (`biomebus status`, `biomebus dlq`, `biomebus up`'s summary):
/// one private loop thread, one connection per distinct address (made on first use), and
/// calls that block the calling thread until the reply. Never call it from a loop thread.
/// Not for services, which keep their connections on their own loops.
package final class BlockingRedis: Sendable {
    /// Connect and command timeout of every connection; a blocking call waits at most a little
    /// longer than this, so a server that never answers cannot hang a tool.
    package let timeout: Duration
    private let thread: LoopThread
    private let connections: LoopBound<Connections>

    package init(timeout: Duration = .seconds(2)) {
        self.timeout = timeout
        let loop = EventLoop(name: "redis-blocking")
        connections = LoopBound(Connections(loop: loop, timeout: timeout), loop: loop)
        thread = LoopThread(loop: loop)
        thread.start()
    }

    /// Connects to each address not connected yet and waits until each has answered or failed,
    /// or `timeout` (plus a little) has passed. Addresses that did not answer stay unready;
    /// their connections keep retrying in the background.
    package func connect(_ addresses: [RedisAddress]) {
        let connections = self.connections
        _ = try? connections.loop.waitFor(timeout: timeout + .milliseconds(200)) { complete in
            connections.value.connect(addresses) { complete(()) }
        }
    }

    /// Connects to `address` (first use) and returns it once ready; `.unavailable` when it does
    /// not answer within `timeout`.
    package func server(_ address: RedisAddress) throws(RedisError) -> Server {
        connect([address])
        let ready = try onLoop { connections, complete in complete(connections[address].isReady) }
        guard ready else { throw RedisError.unavailable }
        return Server(redis: self, address: address)
    }

    /// Runs `work` on the loop with the connection of each address (by index, connected or
    /// not) and waits for it to call `complete`. For work that pipelines over many servers.
    package func withConnections<Value: Sendable>(
        _ addresses: [RedisAddress],
        _ work:
            @escaping @Sendable (_ connections: [RedisConnection], _ complete: @escaping @Sendable (Value) -> Void)
            -> Void
    ) throws(RedisError) -> Value {
        try onLoop { connections, complete in work(addresses.map { connections[$0] }, complete) }
    }

    /// Closes every connection and stops the loop thread. Call once, last.
    package func close() {
        let connections = self.connections
        connections.loop.execute {
            connections.value.closeAll()
            connections.loop.stop()
        }
        thread.join()
    }

    /// The one bridge every call goes through. The loop's own timeouts (connect, command) answer
    /// first; the bridge's longer one only guards against a completion that never comes, which
    /// a tool reports as Redis not answering in time.
    private func onLoop<Value: Sendable>(
        _ work: @escaping @Sendable (Connections, _ complete: @escaping @Sendable (Value) -> Void) -> Void
    ) throws(RedisError) -> Value {
        let connections = self.connections
        do {
            return try connections.loop.waitFor(timeout: timeout * 3 + .seconds(1)) { complete in
                work(connections.value, complete)
            }
        } catch {
            throw RedisError.timedOut
        }
    }

    /// One server of a `BlockingRedis`, ready when handed out.
    package struct Server: Sendable {
        let redis: BlockingRedis
        package let address: RedisAddress

        /// Sends one command and waits for its reply.
        package func send(_ command: RedisCommand) throws(RedisError) -> RedisReply {
            let address = self.address
            return try redis.onLoop { connections, complete in connections[address].send(command, complete) }.get()
        }

        /// Sends one typed command and waits for its decoded reply.
        package func send<Command: StreamCommand>(_ command: Command) throws(RedisError) -> Command.Reply {
            try command.decode(Result { () throws(RedisError) in try send(command.command) }).get()
        }

        /// Runs a script by SHA (loading it when the server lacks it) and waits for its reply.
        package func run(_ script: RedisScript, keys: [String], arguments: [RedisArgument]) throws(RedisError)
            -> RedisReply
        {
            let address = self.address
            return try redis.onLoop { connections, complete in
                connections[address].run(script, keys: keys, arguments: arguments, complete)
            }.get()
        }
    }
}

/// The connections of a `BlockingRedis`, by address. Loop-confined.
private final class Connections {
    private let loop: EventLoop
    private let timeout: Duration
    private var byAddress: [RedisAddress: RedisConnection] = [:]
    private let connector: RedisConnector
    /// Addresses whose first connect attempt has not ended yet, with who waits for them.
    private var firstAttempts: [RedisAddress: [() -> Void]] = [:]

    init(loop: EventLoop, timeout: Duration) {
        self.loop = loop
        self.timeout = timeout
        connector = RedisConnector(loop: loop)
    }

    /// The connection to `address`, made (not started) on first use.
    subscript(address: RedisAddress) -> RedisConnection {
        if let connection = byAddress[address] { return connection }
        let connection = connector.connection(to: address, commandTimeout: timeout, connectTimeout: timeout)
        byAddress[address] = connection
        return connection
    }

    /// Starts the connections of `addresses` not started yet; `settled` runs once every one of
    /// them has ended its first connect attempt (at once when all have).
    func connect(_ addresses: [RedisAddress], settled: @escaping () -> Void) {
        var waiting = 0
        let settleOne = {
            waiting -= 1
            if waiting == 0 { settled() }
        }
        for address in Set(addresses) {
            if byAddress[address] == nil {
                let connection = self[address]
                firstAttempts[address] = []
                connection.onReadinessChange = { [unowned self] ready in
                    // A Sentinel master's first attempts fail at once while the Sentinels are
                    // being asked: wait for it to come up (the caller's wait bounds this).
                    guard ready || !address.isSentinel else { return }
                    guard let waiters = firstAttempts.removeValue(forKey: address) else { return }
                    for waiter in waiters { waiter() }
                }
                connector.start()
                connection.start()
            }
            if firstAttempts[address] != nil {
                waiting += 1
                firstAttempts[address]?.append(settleOne)
            }
        }
        if waiting == 0 { settled() }
    }

    func closeAll() {
        for connection in byAddress.values { connection.close() }
        connector.close()
        byAddress = [:]
        firstAttempts = [:]
    }
}
