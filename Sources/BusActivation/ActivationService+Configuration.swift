import BusAuth
import BusHTTP
import BusLoop
import BusRegions
import BusService

extension ActivationService {
    /// Everything an activation service process needs to run.
    package struct Configuration: Sendable {
        package var postgresURL: String
        package var listen: ListenAddress
        /// Event loops wanted; the service uses at most `poolSize` of them so that every loop has
        /// at least one connection.
        package var threads: Int
        /// The most Postgres connections the whole process holds (split across loops).
        package var poolSize = 8
        /// How long one statement may run.
        package var queryTimeout: Duration = .seconds(2)
        /// How long a request may wait for a free connection before it gets 503.
        package var acquireTimeout: Duration = .seconds(1)
        /// Requests allowed to wait for a connection per loop; more get 503 at once.
        package var maxWaitersPerLoop = 1024
        /// Prepare statements once per connection (protocol-level) instead of sending them unnamed
        /// each time. Faster; turn off behind a transaction-pooling pgbouncer older than 1.21.
        package var preparedStatements = true
        /// Activations in flight at once on one Postgres connection (libpq pipeline mode above
        /// 1): lets a few connections carry more concurrent requests, batching their round trips.
        package var pipelineDepth = 1
        /// Give each session `statement_timeout` and `lock_timeout` just under `queryTimeout`, so a
        /// statement the service gave up on is cancelled by the server instead of committing later.
        /// Turn off only behind a pooler that refuses the `options` startup parameter, and set them
        /// on the role instead (docs/postgres-client.md).
        package var serverTimeouts = true
        /// How long shutdown waits for in-flight requests.
        package var drainTimeout: Duration = .seconds(5)
        /// HTTP limits (request timeout, connection cap) shared by every loop's listener.
        package var http = HTTPServerConfiguration.standard
        /// The auth file's `players` section: every chest route needs a player JWT (nil: open).
        package var players: PlayerPolicy?
        /// Signs the receipt of a won activation and serves its JWKS (nil: no receipts).
        package var receipts: ReceiptSigner?
        /// The Redis holding the per-player activation buckets; required when
        /// `players.activationLimit` is set (each loop keeps one connection to it).
        package var limiterRedis: RedisAddress?
        /// How long the limiter's Redis may take to connect or answer before `503 limiter_unavailable`.
        package var limiterTimeout: Duration = .milliseconds(500)

        package init(postgresURL: String, listen: ListenAddress, threads: Int) {
            self.postgresURL = postgresURL
            self.listen = listen
            self.threads = threads
        }

        /// The loops actually used.
        package var loopCount: Int { max(1, min(threads, poolSize)) }
    }
}
