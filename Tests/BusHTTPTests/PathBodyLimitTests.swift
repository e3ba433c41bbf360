import BusHTTP
import Testing

@Suite("HTTP server: a larger body limit for one path")
struct PathBodyLimitTests {
    private func post(_ path: String, bodyLength: Int, to harness: ServerHarness) throws -> (Int, String) {
        let client = try RawClient(port: harness.port)
        let body = String(repeating: "x", count: bodyLength)
        client.send("POST \(path) HTTP/1.1\r\nHost: t\r\nContent-Length: \(bodyLength)\r\n\r\n\(body)")
        let response = try client.readResponse()
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    @Test("the path gets its own limit and 413; every other path keeps maxBodySize")
    func perPathLimit() throws {
        var configuration = HTTPServerConfiguration()
        configuration.maxBodySize = 16
        configuration.bodyTooLargeResponse = HTTPResponse(status: 413, body: Array("small".utf8))
        configuration.pathBodyLimits["/big"] = .init(
            maxBodySize: 64, tooLargeResponse: HTTPResponse(status: 413, body: Array("big".utf8)))
        let harness = try ServerHarness(configuration: configuration)
        defer { harness.stop() }

        #expect(try post("/small", bodyLength: 16, to: harness) == (200, "ok"))
        #expect(try post("/small", bodyLength: 17, to: harness) == (413, "small"))
        #expect(try post("/big", bodyLength: 64, to: harness) == (200, "ok"))
        #expect(try post("/big", bodyLength: 65, to: harness) == (413, "big"))
        #expect(try post("/big/x", bodyLength: 17, to: harness) == (413, "small"), "exact paths only")
    }
}
