import BusDomain
import BusLoop
import BusRedis
import BusRegions

/// Samples regions straight from their Redis servers, from a plain (non-loop) thread: what
/// `biomebus status` uses, so it works with no BiomeBus service running.
package final class StatusProbe: Sendable {
    private let catalog: RegionCatalog
    private let redis: BlockingRedis

    /// `timeout`: how long a Redis may take to connect or answer before it is reported down.
    package init(catalog: RegionCatalog, timeout: Duration = .seconds(2)) {
        self.catalog = catalog
        redis = BlockingRedis(timeout: timeout)
    }

    /// Connects (servers not connected yet) and samples every region; a Redis that does not
    /// answer within the timeout is reported down. Blocks the calling thread.
    package func snapshot() -> RegionsSnapshot {
        let catalog = self.catalog
        redis.connect(catalog.redisAddresses)
        do {
            return try redis.withConnections(catalog.regions.map(\.redis)) { connections, complete in
                RegionSampler.snapshot(catalog, connections: connections) { complete($0) }
            }
        } catch {
            let regions = catalog.regions.map { region in
                RegionStatus(
                    name: region.name, redis: region.redis.description, up: false, error: "\(error)",
                    memoryHighWater: region.stream.memoryHighWater, claimIdleMs: region.consumer.claimIdleMs)
            }
            return RegionsSnapshot(takenAtMs: Clocks.unixMilliseconds(), regions: regions)
        }
    }

    /// Closes the connections and stops the loop thread.
    package func close() {
        redis.close()
    }
}
