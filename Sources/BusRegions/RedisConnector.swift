import BusLoop
import BusRedis

/// The one place a region's `RedisAddress` becomes `RedisConnection`s on a loop.
///
/// A fixed server gets plain connections; a `redis+sentinel://` address gets connections whose
/// endpoint is a `SentinelMaster`, one per distinct Sentinel address and connector (so all of
/// a loop's connections to one region follow the same failover). Loop-bound: make connections
/// anywhere before `start()`, then `start()` on the loop (it starts the masters; start the
/// connections after it), and `close()` on the loop after closing the connections.
package final class RedisConnector {
    package let loop: EventLoop
    private var masters: [SentinelAddress: SentinelMaster] = [:]
    private var started = false

    package init(loop: EventLoop) {
        self.loop = loop
    }

    /// A new connection (not started) to `address` with `configuration`'s timeouts and limits;
    /// its host, port, database and credentials are the address's.
    package func connection(to address: RedisAddress, configuration: RedisConnectionConfiguration) -> RedisConnection {
        var configuration = configuration
        configuration.host = address.host
        configuration.port = address.port
        configuration.database = address.database
        configuration.username = address.username
        configuration.password = address.password
        guard let sentinel = address.sentinel else {
            return RedisConnection(loop: loop, configuration: configuration)
        }
        return RedisConnection(loop: loop, configuration: configuration, endpoint: .sentinelMaster(master(sentinel)))
    }

    /// A new connection (not started) to `address` with these timeouts.
    package func connection(
        to address: RedisAddress, commandTimeout: Duration,
        connectTimeout: Duration = RedisConnectionConfiguration.defaultConnectTimeout,
        maxOutstanding: Int = RedisConnectionConfiguration.defaultMaxOutstanding
    ) -> RedisConnection {
        connection(
            to: address,
            configuration: address.connectionConfiguration(
                commandTimeout: commandTimeout, connectTimeout: connectTimeout, maxOutstanding: maxOutstanding))
    }

    /// The master follower of a Sentinel address (nil for a fixed server): its verified master,
    /// `masterRole` and `lastError`, for readiness and status.
    package func sentinelMaster(of address: RedisAddress) -> SentinelMaster? {
        address.sentinel.flatMap { masters[$0] }
    }

    /// Starts looking for every Sentinel master made so far (and any made later, at once).
    package func start() {
        loop.assertInLoop()
        started = true
        for master in masters.values { master.start() }
    }

    /// Stops following the masters. Close the connections first.
    package func close() {
        loop.assertInLoop()
        for master in masters.values { master.close() }
        masters = [:]
        started = false
    }

    private func master(_ sentinel: SentinelAddress) -> SentinelMaster {
        if let master = masters[sentinel] { return master }
        let master = SentinelMaster(loop: loop, configuration: .init(address: sentinel))
        masters[sentinel] = master
        if started { master.start() }
        return master
    }
}
