import BusLoop

/// Where and how to talk to one Postgres server, for one connection.
package struct PostgresConfiguration: Sendable, Equatable {
    /// A libpq connection URI (`postgresql://user@host:port/db?sslmode=disable`) or a
    /// `key=value` connection string. Host names are resolved on the loop before libpq sees
    /// them (see `PostgresHostPlan`); messages show it only through `PostgresURLRedaction`.
    package var url: String
    /// Sent as libpq's `fallback_application_name`: shown in `pg_stat_activity` unless the URL
    /// sets `application_name` itself.
    package var applicationName = "biomebus"
    /// How long connecting (TCP, TLS, startup, authentication) may take before the attempt is
    /// abandoned and retried after the backoff. libpq's own `connect_timeout` does not apply
    /// to non-blocking connects.
    package var connectTimeout: Duration = .seconds(2)
    /// How long a statement may run when its caller gives no timeout. On expiry the statement
    /// fails with `.timedOut` and the connection is closed and reopened.
    package var queryTimeout: Duration = .seconds(5)
    /// Whether each session also gets server-side `statement_timeout` and `lock_timeout`
    /// (`serverStatementTimeout`), sent in the startup packet's `options`. Without them a
    /// statement the client gave up on keeps running on the server and can still commit.
    /// Turn off only when something in between refuses the `options` startup parameter (an old
    /// pgbouncer) and set the timeouts on the role instead; see docs/postgres-client.md.
    package var serverTimeouts = true
    package var reconnectBackoff = ReconnectBackoff()
    /// How many statements may be in flight at once on the connection. Above 1 the connection
    /// runs in libpq pipeline mode: each statement is sent with its own Sync (its own implicit
    /// transaction, as outside pipeline mode) without waiting for the answers to earlier ones,
    /// and answers are read in order. A `PostgresPool` shares such a connection among callers of
    /// `query` only; a `withConnection` lease (a transaction) still gets it to itself.
    package var pipelineDepth = 1

    package init(url: String) {
        self.url = url
    }

    /// The server-side `statement_timeout` (and `lock_timeout`): 90 % of `queryTimeout`, at
    /// least 1 ms, so the server cancels a statement (`57014`/`55P03`, a clean error on a
    /// connection that stays usable) and its error reaches the client before the client's own
    /// timer fires and has to drop the connection. Nil when `serverTimeouts` is off.
    package var serverStatementTimeout: Duration? {
        guard serverTimeouts else { return nil }
        let milliseconds = queryTimeout.nanoseconds / 1_000_000
        return .milliseconds(max(1, milliseconds * 9 / 10))
    }

    /// The `options` startup parameter: the server timeouts first, then whatever `options` the
    /// URL carries, so that a `-c statement_timeout=…` in the URL wins (Postgres applies `-c`
    /// settings in order). Nil when there is nothing to send or the URL does not parse (the
    /// connect then reports the URL's error).
    func startupOptions(urlOptions: String?) -> String? {
        var parts: [String] = []
        if let timeout = serverStatementTimeout {
            let milliseconds = timeout.nanoseconds / 1_000_000
            parts.append("-c statement_timeout=\(milliseconds) -c lock_timeout=\(milliseconds)")
        }
        if let urlOptions, !urlOptions.isEmpty { parts.append(urlOptions) }
        return parts.isEmpty ? nil : parts.joined(separator: " ")
    }
}
