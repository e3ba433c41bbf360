import BusRedis
import Testing

@testable import BusOps

@Suite("Parsing Redis's INFO and XINFO replies")
struct RegionSamplerTests {
    @Test("INFO text with CRLF line ends")
    func info() {
        let values = RegionSampler.parseInfo("# Memory\r\nused_memory:914736\r\nmaxmemory:0\r\n")
        #expect(values["used_memory"] == "914736")
        #expect(values["maxmemory"] == "0")
    }

    @Test("XINFO GROUPS rows, with and without a known lag")
    func groups() {
        let row: RedisReply = .array([
            .bulk(Array("name".utf8)), .bulk(Array("treasure".utf8)), .bulk(Array("consumers".utf8)), .integer(2),
            .bulk(Array("pending".utf8)), .integer(5), .bulk(Array("lag".utf8)), .integer(7),
        ])
        let unknownLag: RedisReply = .array([
            .bulk(Array("name".utf8)), .bulk(Array("g2".utf8)), .bulk(Array("lag".utf8)), .null,
        ])
        let groups = RegionSampler.parseGroups(.array([row, unknownLag]))
        #expect(groups.count == 2)
        #expect(
            groups[0].name == "treasure" && groups[0].pending == 5 && groups[0].lag == 7 && groups[0].consumers == 2)
        #expect(groups[1].lag == nil)
    }
}
