import BusAuth
import BusHTTP
import BusLoop
import BusRegions
import BusService

extension ActivationService {
    /// Everything an activation service process needs to run.
    public struct Configuration: Sendable {
        public var postgresURL: String
        public var listen: ListenAddress
        /// Event loops wanted; the service uses at most `poolSize` of them so that every loop has
        /// at least one connection.
        public var threads: Int
        /// The most Postgres connections the whole process holds (split across loops).
        public var poolSize = 8
        /// How long one statement may run.
        public var queryTimeout: Duration = .seconds(2)
        /// How long a request may wait for a free connection before it gets 503.
        public var acquireTimeout: Duration = .seconds(1)
        /// Requests allowed to wait for a connection per loop; more get 503 at once.
        public var maxWaitersPerLoop = 1024
        /// Prepare statements once per connection (protocol-level) instead of sending them unnamed
        /// each time. Faster; turn off behind a transaction-pooling pgbouncer older than 1.21.
        public var preparedStatements = true
        /// Activations in flight at once on one Postgres connection (libpq pipeline mode above
        /// 1): lets a few connections carry more concurrent requests, batching their round trips.
        public var pipelineDepth = 1
        /// Give each session `statement_timeout` and `lock_timeout` just under `queryTimeout`, so a
        /// statement the service gave up on is cancelled by the server instead of committing later.
        /// Turn off only behind a pooler that refuses the `options` startup parameter, and set them
        /// on the role instead (docs/postgres-client.md).
        public var serverTimeouts = true
        /// How long shutdown waits for in-flight requests.
        public var drainTimeout: Duration = .seconds(5)
        /// HTTP limits (request timeout, connection cap) shared by every loop's listener.
        public var http = HTTPServerConfiguration.standard
        /// The auth file's `players` section: every chest route needs a player JWT (nil: open).
        public var players: PlayerPolicy?
        /// Signs the receipt of a won activation and serves its JWKS (nil: no receipts).
        public var receipts: ReceiptSigner?
        /// The Redis holding the per-player activation buckets; required when
        /// `players.activationLimit` is set (each loop keeps one connection to it).
        public var limiterRedis: RedisAddress?
        /// How long the limiter's Redis may take to connect or answer before `503 limiter_unavailable`.
        public var limiterTimeout: Duration = .milliseconds(500)

        public init(postgresURL: String, listen: ListenAddress, threads: Int) {
            self.postgresURL = postgresURL
            self.listen = listen
            self.threads = threads
        }

        /// The loops actually used.
        public var loopCount: Int { max(1, min(threads, poolSize)) }
    }
}
