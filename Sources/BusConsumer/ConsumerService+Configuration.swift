import BusDomain
import BusHTTP
import BusLoop
import BusRegions
import BusService

/// Everything a consumer process (or one consumer of `biomebus up`) needs.
extension ConsumerService {
    package struct Configuration: Sendable {
        package var region: RegionConfig
        /// The region's biomes this consumer reads (all of them by default).
        package var biomes: [BiomeID]
        package var consumerName: String
        package var postgresURL: String
        /// Where to serve /healthz, /readyz and /metrics; nil for none.
        package var admin: ListenAddress?
        /// Postgres connections for the handler.
        package var poolSize = 8
        /// Prepare statements once per connection; turn off behind a transaction-pooling
        /// pgbouncer older than 1.21 (docs/postgres-client.md).
        package var preparedStatements = true
        /// Send `statement_timeout`/`lock_timeout` at connect (docs/postgres-client.md).
        package var serverTimeouts = true
        /// How long SIGTERM waits for in-flight entries before leaving them pending for others.
        package var drainTimeout: Duration = .seconds(10)
        /// HTTP limits of the admin listener.
        package var http = HTTPServerConfiguration.standard

        package init(region: RegionConfig, biomes: [BiomeID], consumerName: String, postgresURL: String) {
            self.region = region
            self.biomes = biomes
            self.consumerName = consumerName
            self.postgresURL = postgresURL
        }
    }
}
