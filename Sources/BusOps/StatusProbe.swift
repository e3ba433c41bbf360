import BusDomain
import BusLoop
import BusRedis
import Foundation

/// Samples regions straight from their Redis servers, from a plain (non-loop) thread: what
/// `biomebus status` uses, so it works with no BiomeBus service running.
public final class StatusProbe: @unchecked Sendable {
    // @unchecked Sendable: `connections` and `started` are touched only on `thread`'s loop.
    private let catalog: RegionCatalog
    private let thread: LoopThread
    private var connections: [RedisConnection] = []
    private var started = false
    private var connectDeadline: LoopTimer?

    public init(catalog: RegionCatalog) {
        self.catalog = catalog
        thread = LoopThread(loop: EventLoop(name: "status"))
        thread.start()
    }

    /// Connects (first call only) and samples every region. A Redis that does not answer
    /// within `connectTimeout` is reported down. Blocks the calling thread.
    public func snapshot(connectTimeout: Duration = .seconds(2)) -> RegionsSnapshot {
        let result = ResultBox()
        let loop = thread.loop
        loop.execute { [self] in
            if !started {
                started = true
                connect(timeout: connectTimeout) { self.sample(into: result) }
            } else {
                sample(into: result)
            }
        }
        return result.wait()
    }

    /// Closes the connections and stops the loop thread.
    public func close() {
        let loop = thread.loop
        loop.execute { [self] in
            for connection in connections { connection.close() }
            loop.stop()
        }
        thread.join()
    }

    private func connect(timeout: Duration, then next: @escaping () -> Void) {
        let addresses = catalog.redisAddresses
        connections = addresses.map { address in
            var configuration = RedisConnectionConfiguration(
                host: address.host, port: address.port, database: address.database, username: address.username,
                password: address.password)
            configuration.connectTimeout = timeout
            configuration.commandTimeout = timeout
            return RedisConnection(loop: thread.loop, configuration: configuration)
        }
        var unsettled = connections.count
        var done = false
        let settleOne = {
            unsettled -= 1
            if unsettled == 0 && !done {
                done = true
                next()
            }
        }
        connectDeadline = LoopTimer(loop: thread.loop) {
            if !done {
                done = true
                next()
            }
        }
        connectDeadline?.schedule(after: timeout + .milliseconds(200))
        for connection in connections {
            var settled = false
            connection.onReadinessChange = { _ in
                if !settled {
                    settled = true
                    settleOne()
                }
            }
            connection.start()
        }
    }

    private func sample(into result: ResultBox) {
        let addresses = catalog.redisAddresses
        let byRegion = catalog.regions.map { region in connections[addresses.firstIndex(of: region.redis)!] }
        RegionSampler.snapshot(catalog, connections: byRegion) { result.set($0) }
    }

    private final class ResultBox: @unchecked Sendable {
        // @unchecked Sendable: guarded by the semaphore hand-off.
        private var value: RegionsSnapshot?
        private let ready = DispatchSemaphore(value: 0)

        func set(_ snapshot: RegionsSnapshot) {
            value = snapshot
            ready.signal()
        }

        func wait() -> RegionsSnapshot {
            ready.wait()
            return value!
        }
    }
}
