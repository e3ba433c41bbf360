import BusDomain
import BusOps
import BusRedis
import BusRegions
import BusTesting
import Foundation
import Testing

/// `BlockingRedis`, the only blocking Redis client: what `biomebus status` and `dlq` use.
@Suite("BlockingRedis: one loop thread, one connection per address, bounded waits")
struct BlockingRedisTests {
    @Test("every caller of one address shares one connection")
    func oneConnectionPerAddress() throws {
        let redis = try RedisServerProcess.temporary()
        let address = try RedisAddress(url: redis.url)
        let blocking = BlockingRedis()
        defer { blocking.close() }
        let first = try blocking.server(address)
        let second = try blocking.server(try RedisAddress(url: redis.url))
        blocking.connect([address, address])
        #expect(try first.send(RedisCommand("SET", .string("k"), .string("v"))).string == "OK")
        #expect(try second.send(RedisCommand("GET", .string("k"))).string == "v")
        // CLIENT LIST from redis-cli counts redis-cli itself and the one shared connection.
        let clients = try redis.cli("CLIENT", "LIST").split(separator: "\n").filter { !$0.isEmpty }
        #expect(clients.count == 2, "\(clients)")
    }

    @Test("a server that accepts TCP but never answers is .unavailable after the timeout, not a hang")
    func silentServer() throws {
        let (fd, port) = LoopbackPorts.listener()
        defer { close(fd) }
        let blocking = BlockingRedis(timeout: .milliseconds(300))
        defer { blocking.close() }
        #expect(throws: RedisError.unavailable) {
            try blocking.server(try RedisAddress(url: "redis://127.0.0.1:\(port)/0"))
        }
    }
}
