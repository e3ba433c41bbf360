import BusDomain
import Testing

@testable import BusRegions

@Suite("Redis URLs: ACL users, percent-encoding, redaction")
struct RedisAddressTests {
    @Test("user:password@ gives an ACL user; percent-escapes are decoded")
    func aclUserAndDecoding() throws {
        let alice = try RedisAddress(url: "redis://alice:s3cret@h:6380/2")
        #expect(alice == RedisAddress(host: "h", port: 6380, database: 2, username: "alice", password: "s3cret"))
        let encoded = try RedisAddress(url: "redis://bob:p%40ss%2Fw%25rd%3A@h")
        #expect(encoded.username == "bob")
        #expect(encoded.password == "p@ss/w%rd:")
        let defaultUser = try RedisAddress(url: "redis://:pa%20ss@h")
        #expect(defaultUser.username == nil)
        #expect(defaultUser.password == "pa ss")
        // A nopass ACL user: the user authenticates with an empty password.
        let noPassword = try RedisAddress(url: "redis://carol:@h")
        #expect(noPassword.username == "carol")
        #expect(noPassword.password == "")
        for bad in ["redis://bob:p%zz@h", "redis://bob:p%4@h", "redis://b%g0b:pw@h"] {
            #expect(throws: RedisAddressError.self) { try RedisAddress(url: bad) }
        }
    }

    @Test("description never shows the password; urlWithPassword reads back to the same address")
    func descriptionAndRoundTrip() throws {
        let address = try RedisAddress(url: "redis://al%20ice:p%40ss%2Fw%25rd@[::1]:7000/3")
        #expect(address.description == "redis://al%20ice:***@[::1]:7000/3")
        #expect(!address.description.contains("ss"))
        #expect(try RedisAddress(url: address.urlWithPassword) == address)
        #expect(RedisAddress(host: "h").urlWithPassword == "redis://h:6379/0")
    }

    @Test("a URL that does not parse is still shown without its password")
    func redactedRawURL() {
        #expect(RedisAddress.redacted(url: "redis://alice:s3cret@h:notaport/0") == "redis://alice:***@h:notaport/0")
        #expect(RedisAddress.redacted(url: "redis://:s3cret@h") == "redis://:***@h")
        #expect(RedisAddress.redacted(url: "redis://s3cret@h") == "redis://:***@h")
        #expect(RedisAddress.redacted(url: "redis://a:b@c:s3c@ret@h/0") == "redis://a:***@h/0")
        #expect(RedisAddress.redacted(url: "redis://h:6379/0") == "redis://h:6379/0")
    }

    @Test("a region file with a bad redis URL names the key without the password")
    func regionErrorIsRedacted() {
        let yaml = "name: north\nredis: redis://alice:Sup3rS3cret@h:notaport/0\nbiomes: [1]\n"
        do {
            _ = try RegionConfig.parse(yaml: yaml, file: "north.yaml")
            Issue.record("a bad port was accepted")
        } catch {
            #expect(error.description.contains("redis"))
            #expect(!error.description.contains("Sup3rS3cret"), "\(error)")
        }
    }

    @Test("redis+sentinel:// gives a Sentinel address; plain URLs none; both read back from urlWithPassword")
    func sentinelAddresses() throws {
        let address = try RedisAddress(url: "redis+sentinel://alice:s%40cret@10.0.0.1,10.0.0.2:26380/main?db=2")
        let sentinel = try #require(address.sentinel)
        #expect(address.isSentinel)
        #expect(sentinel.masterName == "main")
        #expect(address.username == "alice" && address.password == "s@cret" && address.database == 2)
        #expect(address.description == "redis+sentinel://alice:***@10.0.0.1:26379,10.0.0.2:26380/main?db=2")
        #expect(try RedisAddress(url: address.urlWithPassword) == address)
        #expect(address != (try RedisAddress(url: "redis://alice:s%40cret@10.0.0.1:26379/2")))
        #expect(try RedisAddress(url: "redis://h").sentinel == nil)
        for bad in ["redis+sentinel://h", "redis+sentinel:///m", "redis+sentinel://h/m?db=x", "rediss://h"] {
            #expect(throws: RedisAddressError.self) { try RedisAddress(url: bad) }
        }
    }
}
