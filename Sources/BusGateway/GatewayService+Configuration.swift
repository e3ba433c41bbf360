import BusAuth
import BusDomain
import BusHTTP
import BusLoop
import BusRegions
import BusService

extension GatewayService {
    /// Everything a gateway process needs to run.
    package struct Configuration: Sendable {
        package var catalog: RegionCatalog
        package var listen: ListenAddress
        /// Event loops (threads); each has its own HTTP listener and Redis connections.
        package var threads: Int
        /// How long a region's Redis may take to acknowledge an XADD before the spawn gets 503.
        package var redisTimeout: Duration = .seconds(1)
        /// XADDs allowed to wait for Redis per connection; beyond it spawns get 503 at once. Room
        /// for a few full batches (1000 events each) at once.
        package var maxOutstandingPerConnection = 8192
        /// Count and time every spawn (`biomebus_spawn_requests_total`, the latency histogram).
        /// Off only to measure what metrics cost (`BIOMEBUS_REQUEST_METRICS=off`).
        package var requestMetrics = true
        /// How often stream figures and Redis memory are sampled (gauges, memory guard).
        package var sampleInterval: Duration = .seconds(1)
        /// How long shutdown waits for in-flight requests.
        package var drainTimeout: Duration = .seconds(5)
        /// HTTP limits (request timeout, connection cap) shared by every loop's listener.
        package var http = HTTPServerConfiguration.standard
        /// The auth file's `spawn` section: spawns need a client token (nil: the gateway runs open).
        package var spawnAuth: SpawnPolicy?

        package init(catalog: RegionCatalog, listen: ListenAddress, threads: Int) {
            self.catalog = catalog
            self.listen = listen
            self.threads = threads
        }
    }
}
