import Testing

@testable import BusRedis

@Suite("redis+sentinel:// URLs")
struct SentinelAddressTests {
    @Test("Sentinels in order, default port, master name, db and password")
    func parsesEverything() throws {
        let address = try SentinelAddress(
            url: "redis+sentinel://:s%40cret@s1:26380,10.0.0.2,[::1]:26381/region-eu?db=3")
        #expect(
            address.sentinels == [
                RedisServerAddress(host: "s1", port: 26380), RedisServerAddress(host: "10.0.0.2", port: 26379),
                RedisServerAddress(host: "::1", port: 26381),
            ])
        #expect(address.masterName == "region-eu")
        #expect(address.database == 3)
        #expect(address.password == "s@cret")
        #expect(address.username == nil)
    }

    @Test("the smallest URL: one Sentinel, db 0, no password")
    func minimal() throws {
        let address = try SentinelAddress(url: "redis+sentinel://127.0.0.1:26379/mymaster")
        #expect(
            address
                == SentinelAddress(
                    sentinels: [RedisServerAddress(host: "127.0.0.1", port: 26379)], masterName: "mymaster"))
        #expect(address.urlWithPassword == "redis+sentinel://127.0.0.1:26379/mymaster")
    }

    @Test("an ACL user with a password")
    func aclUser() throws {
        let address = try SentinelAddress(url: "redis+sentinel://app:pw@h:1/m")
        #expect(address.username == "app")
        #expect(address.password == "pw")
    }

    @Test("description hides the password; urlWithPassword reads back")
    func roundTrip() throws {
        let address = try SentinelAddress(url: "redis+sentinel://:p%2Fw@a:1,[fe80::1]:2/m%20x?db=2")
        #expect(address.description == "redis+sentinel://:***@a:1,[fe80::1]:2/m%20x?db=2")
        #expect(!address.description.contains("p%2Fw"))
        #expect(try SentinelAddress(url: address.urlWithPassword) == address)
        #expect(SentinelAddress.matches(url: address.urlWithPassword))
        #expect(!SentinelAddress.matches(url: "redis://h:1/0"))
    }

    @Test(
        "bad URLs are refused with a reason",
        arguments: [
            "redis://h:6379/0",
            "redis+sentinel://h:26379",
            "redis+sentinel://h:26379/",
            "redis+sentinel:///m",
            "redis+sentinel://:pw@/m",
            "redis+sentinel://h:26379,/m",
            "redis+sentinel://h:x/m",
            "redis+sentinel://h:0/m",
            "redis+sentinel://h:70000/m",
            "redis+sentinel://[::1/m",
            "redis+sentinel://[::1]x/m",
            "redis+sentinel://h:1,h:1/m",
            "redis+sentinel://h/m/extra",
            "redis+sentinel://h/m?db=x",
            "redis+sentinel://h/m?db=-1",
            "redis+sentinel://h/m?timeout=1",
            "redis+sentinel://:%zz@h/m",
            "redis+sentinel://h/%zz",
        ])
    func refuses(url: String) {
        #expect(throws: SentinelAddressError.self) { try SentinelAddress(url: url) }
    }
}

@Suite("Sentinel protocol replies")
struct SentinelProtocolTests {
    @Test("get-master-addr-by-name: an address, null for an unknown master, else unexpected")
    func masterAddress() throws {
        let reply = RedisReply.array([.bulk(Array("10.0.0.5".utf8)), .bulk(Array("6380".utf8))])
        #expect(try SentinelProtocol.masterAddress(from: reply) == RedisServerAddress(host: "10.0.0.5", port: 6380))
        #expect(try SentinelProtocol.masterAddress(from: .null) == nil)
        #expect(throws: RedisError.self) { try SentinelProtocol.masterAddress(from: .array([.bulk([49])])) }
        #expect(throws: RedisError.self) {
            try SentinelProtocol.masterAddress(from: .array([.bulk(Array("h".utf8)), .bulk(Array("0".utf8))]))
        }
    }

    @Test("+switch-master messages name the new master")
    func switchMaster() {
        let parsed = SentinelProtocol.switchMaster(message: "region-eu 127.0.0.1 6379 127.0.0.1 6380")
        #expect(parsed?.masterName == "region-eu")
        #expect(parsed?.newMaster == RedisServerAddress(host: "127.0.0.1", port: 6380))
        #expect(SentinelProtocol.switchMaster(message: "region-eu 127.0.0.1 6379") == nil)
        #expect(SentinelProtocol.switchMaster(message: "m a 1 b port") == nil)
    }

    @Test("ROLE replies of a master, a replica and a Sentinel")
    func role() throws {
        let master = RedisReply.array([
            .bulk(Array("master".utf8)), .integer(3_129_659),
            .array([.array([.bulk(Array("127.0.0.1".utf8)), .bulk(Array("9001".utf8)), .bulk(Array("3129242".utf8))])]),
        ])
        #expect(try RedisRole(reply: master) == .master(replicas: [RedisServerAddress(host: "127.0.0.1", port: 9001)]))
        #expect(try RedisRole(reply: master).isMaster)
        let replica = RedisReply.array([
            .bulk(Array("slave".utf8)), .bulk(Array("127.0.0.1".utf8)), .integer(9000),
            .bulk(Array("connected".utf8)), .integer(3_167_038),
        ])
        let parsed = try RedisRole(reply: replica)
        #expect(parsed == .replica(master: RedisServerAddress(host: "127.0.0.1", port: 9000), linkUp: true))
        #expect(!parsed.isMaster)
        #expect(parsed.name == "slave")
        #expect(try RedisRole(reply: .array([.bulk(Array("sentinel".utf8)), .array([])])) == .sentinel)
        #expect(throws: RedisError.self) { try RedisRole(reply: .status("OK")) }
    }
}
