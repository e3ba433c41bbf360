import BusRedis
import BusRegions
import Testing

@Suite("RedisAddress.connectionConfiguration")
struct RedisConnectionConfigurationTests {
    @Test("carries host, port, database, user and password, and the given limits")
    func carriesEverything() {
        let address = RedisAddress(host: "::1", port: 6380, database: 3, username: "alice", password: "p#ss:@")
        let configuration = address.connectionConfiguration(
            commandTimeout: .milliseconds(2500), connectTimeout: .milliseconds(700), maxOutstanding: 77)
        #expect(configuration.host == "::1")
        #expect(configuration.port == 6380)
        #expect(configuration.database == 3)
        #expect(configuration.username == "alice")
        #expect(configuration.password == "p#ss:@")
        #expect(configuration.commandTimeout == .milliseconds(2500))
        #expect(configuration.connectTimeout == .milliseconds(700))
        #expect(configuration.maxOutstanding == 77)
    }

    @Test("connect timeout and outstanding cap default to the connection's defaults")
    func defaults() {
        let configuration = RedisAddress(host: "h").connectionConfiguration(commandTimeout: .seconds(4))
        #expect(configuration.commandTimeout == .seconds(4))
        #expect(configuration.connectTimeout == RedisConnectionConfiguration.defaultConnectTimeout)
        #expect(configuration.maxOutstanding == RedisConnectionConfiguration.defaultMaxOutstanding)
        #expect(configuration.username == nil && configuration.password == nil && configuration.database == 0)
    }
}
