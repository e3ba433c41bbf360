import BusRedis

extension RedisAddress {
    /// How to connect to this Redis: its host, port, database and credentials, with the
    /// caller's timeouts. The one place a region's address becomes a connection, so no service
    /// can forget the ACL user or the database.
    package func connectionConfiguration(
        commandTimeout: Duration,
        connectTimeout: Duration = RedisConnectionConfiguration.defaultConnectTimeout,
        maxOutstanding: Int = RedisConnectionConfiguration.defaultMaxOutstanding
    ) -> RedisConnectionConfiguration {
        var configuration = RedisConnectionConfiguration(
            host: host, port: port, database: database, username: username, password: password)
        configuration.commandTimeout = commandTimeout
        configuration.connectTimeout = connectTimeout
        configuration.maxOutstanding = maxOutstanding
        return configuration
    }
}
