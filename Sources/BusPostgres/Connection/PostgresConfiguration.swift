import BusLoop

/// Where and how to talk to one Postgres server, for one connection.
public struct PostgresConfiguration: Sendable, Equatable {
    /// A libpq connection URI (`postgresql://user@host:port/db?sslmode=disable`) or a
    /// `key=value` connection string. Give an IP address (or `hostaddr`): libpq resolves host
    /// names synchronously inside `PQconnectStart`, which would block the loop on a slow DNS.
    public var url: String
    /// Sent as libpq's `fallback_application_name`: shown in `pg_stat_activity` unless the URL
    /// sets `application_name` itself.
    public var applicationName = "biomebus"
    /// How long connecting (TCP, TLS, startup, authentication) may take before the attempt is
    /// abandoned and retried after the backoff. libpq's own `connect_timeout` does not apply
    /// to non-blocking connects.
    public var connectTimeout: Duration = .seconds(2)
    /// How long a statement may run when its caller gives no timeout. On expiry the statement
    /// fails with `.timedOut` and the connection is closed and reopened.
    public var queryTimeout: Duration = .seconds(5)
    public var reconnectBackoff = ReconnectBackoff()

    public init(url: String) {
        self.url = url
    }
}
