import BusHTTP
import BusLoop
import BusTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("HTTP server: what real clients rely on")
struct HTTPServerProtocolTests {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test("keep-alive: several requests on one connection, each with Date and Content-Length")
    func keepAlive() throws {
        let harness = try ServerHarness(echo: true)
        defer { harness.stop() }
        let client = try RawClient(port: harness.port)
        for index in 0..<5 {
            client.send("GET /k/\(index)?a=b HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(text(response.body) == "GET /k/\(index) a=b 0\n")
            #expect(response.headers.contains("\r\nDate: "))
            #expect(!response.headers.lowercased().contains("connection: close"))
        }
        #expect(harness.counters.connections == 1)
    }

    @Test("pipelined requests are answered in order: a later reply waits for an earlier pending one")
    func pipelinedInOrder() async throws {
        let harness = try ServerHarness(hold: true)
        defer { harness.stop() }
        let client = try RawClient(port: harness.port)
        client.send(
            "GET /first HTTP/1.1\r\nHost: t\r\n\r\nPOST /second HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /third HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(await Polling.waitUntilAsync { harness.received.load(ordering: .relaxed) == 1 })
        // Only the first is handed over; nothing is written while it is pending.
        #expect(client.readAvailable(waiting: 100).isEmpty)
        #expect(harness.received.load(ordering: .relaxed) == 1)
        for (index, path) in ["/first", "/second", "/third"].enumerated() {
            #expect(await Polling.waitUntilAsync { harness.received.load(ordering: .relaxed) == index + 1 })
            let request = harness.onLoop { harness.heldRequests[index] }
            #expect(request.path == path)
            harness.onLoop {
                harness.held[index].send(HTTPResponse(status: 200, body: Array(request.path.utf8)))
            }
            let response = try client.readResponse()
            #expect(text(response.body) == path)
        }
        #expect(harness.onLoop { harness.heldRequests[1].body } == Array("abc".utf8))
    }

    @Test("a client that half-closes after pipelining still gets every reply, then the close")
    func halfCloseAfterPipelining() async throws {
        let harness = try ServerHarness(hold: true)
        defer { harness.stop() }
        let client = try RawClient(port: harness.port)
        client.send("GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\n")
        Glibc.shutdown(client.fd, Int32(SHUT_WR))
        for index in 0..<2 {
            #expect(await Polling.waitUntilAsync { harness.received.load(ordering: .relaxed) == index + 1 })
            harness.onLoop { harness.held[index].send(HTTPResponse(status: 200, body: [UInt8(ascii: "a")])) }
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.headers.contains("Connection: close") == (index == 1))
        }
        #expect(await Polling.waitUntilAsync { client.isClosedByPeer() })
        #expect(await Polling.waitUntilAsync { harness.counters.connections == 0 })
    }

    @Test("Expect: 100-continue gets an interim 100 before the body; an oversized one gets 413 at once")
    func expectContinue() async throws {
        let harness = try ServerHarness(echo: true)
        defer { harness.stop() }
        let body = String(repeating: "b", count: 2000)
        let client = try RawClient(port: harness.port)
        client.send("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\nExpect: 100-continue\r\n\r\n")
        #expect(try client.readResponse().status == 100)
        client.send(body)
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(text(response.body) == "POST /up - 2000\n" + body)

        let big = try RawClient(port: harness.port)
        big.send("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n")
        let refused = try big.readResponse()
        #expect(refused.status == 413)
        #expect(refused.headers.contains("Connection: close"))
        #expect(await Polling.waitUntilAsync { big.isClosedByPeer() })
    }

    @Test("chunked request bodies are decoded (extensions and trailers ignored), even a byte at a time")
    func chunkedBodies() async throws {
        let harness = try ServerHarness(echo: true)
        defer { harness.stop() }
        let request =
            "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5\r\nhello\r\n6;name=value\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
        let client = try RawClient(port: harness.port)
        client.send(request)
        #expect(text(try client.readResponse().body) == "POST /c - 11\nhello world")
        for character in request { client.send(String(character)) }
        #expect(text(try client.readResponse().body) == "POST /c - 11\nhello world")

        var configuration = HTTPServerConfiguration()
        configuration.maxBodySize = 8
        configuration.bodyTooLargeResponse = HTTPResponse(status: 413, body: Array("too big".utf8))
        let limited = try ServerHarness(configuration: configuration, echo: true)
        defer { limited.stop() }
        let over = try RawClient(port: limited.port)
        over.send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n")
        let response = try over.readResponse()
        #expect(response.status == 413)
        #expect(text(response.body) == "too big")
        #expect(await Polling.waitUntilAsync { over.isClosedByPeer() })
    }

    @Test("Connection: close and HTTP/1.0 close after the reply; HTTP/1.0 keep-alive stays open")
    func closingVersions() async throws {
        let harness = try ServerHarness(echo: true)
        defer { harness.stop() }
        for request in [
            "GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", "GET /a HTTP/1.0\r\n\r\n",
        ] {
            let client = try RawClient(port: harness.port)
            client.send(request)
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.headers.contains("Connection: close"))
            #expect(await Polling.waitUntilAsync { client.isClosedByPeer() })
        }
        let client = try RawClient(port: harness.port)
        for _ in 0..<2 {
            client.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.headers.contains("Connection: keep-alive"))
        }
        #expect(!client.isClosedByPeer())
    }

    @Test("HEAD gets the length but no body; an unknown method reaches the handler and its body is read")
    func headAndUnknownMethods() throws {
        let harness = try ServerHarness(echo: true)
        defer { harness.stop() }
        let client = try RawClient(port: harness.port)
        client.send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\nQUERY /q HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
        let head = try client.readResponse(headOnly: true)
        #expect(head.status == 200)
        #expect(head.headers.contains("Content-Length: 12"))
        let query = try client.readResponse()
        #expect(text(query.body) == "an unrecognized method /q - 5\nhello")
        client.send("GET /after HTTP/1.1\r\n\r\n")
        #expect(text(try client.readResponse().body) == "GET /after - 0\n")
    }

    @Test("limits: a body over the limit is refused from its head alone; big heads 431; bad syntax 400")
    func limits() async throws {
        var configuration = HTTPServerConfiguration()
        configuration.maxHeadersSize = 1024
        configuration.maxHeaderFields = 10
        configuration.bodyTooLargeResponse = HTTPResponse(status: 413, body: Array("too big".utf8))
        let harness = try ServerHarness(configuration: configuration, echo: true)
        defer { harness.stop() }

        // Only the head is sent: the 413 cannot wait for (or buffer) the 10 MB.
        let big = try RawClient(port: harness.port)
        big.send("POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\nxyz")
        #expect(try big.readResponse().status == 413)

        // A whole 2 MiB body sent before reading still gets its 413, not a reset.
        let huge = try PlainHTTPClient.request(
            port: harness.port, method: "POST", path: "/b", body: [UInt8](repeating: 32, count: 2 << 20))
        #expect(huge.status == 413)

        let longHead = try RawClient(port: harness.port)
        longHead.send("GET /h HTTP/1.1\r\nX-Long: \(String(repeating: "a", count: 2000))\r\n\r\n")
        let tooLong = try longHead.readResponse()
        #expect(tooLong.status == 431)
        #expect(text(tooLong.body).contains("header_fields_too_large"))

        let manyFields = try RawClient(port: harness.port)
        manyFields.send("GET /h HTTP/1.1\r\n" + (0..<11).map { "X-\($0): 1\r\n" }.joined() + "\r\n")
        #expect(try manyFields.readResponse().status == 431)

        for bad in [
            "GET /h HTTP/1.1\r\nBad Name: x\r\n\r\n", "GET  HTTP/1.1\r\n\r\n",
            "POST /h HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST /h HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "GET /h HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
        ] {
            let client = try RawClient(port: harness.port)
            client.send(bad)
            let response = try client.readResponse()
            #expect(response.status == 400, "\(bad)")
            #expect(text(response.body).contains(#""code": "bad_request""#))
            #expect(await Polling.waitUntilAsync { client.isClosedByPeer() })
        }
        let version = try RawClient(port: harness.port)
        version.send("GET / HTTP/2.0\r\n\r\n")
        #expect(try version.readResponse().status == 505)
        #expect(harness.received.load(ordering: .relaxed) == 0)
    }

    @Test("a larger body limit for one path, chunked bodies included")
    func pathBodyLimit() throws {
        var configuration = HTTPServerConfiguration()
        configuration.maxBodySize = 4
        configuration.pathBodyLimits["/big"] = .init(
            maxBodySize: 10, tooLargeResponse: HTTPResponse(status: 413, body: Array("big".utf8)))
        let harness = try ServerHarness(configuration: configuration, echo: true)
        defer { harness.stop() }
        func post(_ path: String, chunked body: String) throws -> Int {
            let client = try RawClient(port: harness.port)
            let size = String(body.utf8.count, radix: 16)
            client.send("POST \(path) HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\n\(body)\r\n0\r\n\r\n")
            return try client.readResponse().status
        }
        #expect(try post("/big", chunked: "0123456789") == 200)
        #expect(try post("/big", chunked: "0123456789a") == 413)
        #expect(try post("/small", chunked: "01234") == 413)
    }

    @Test("a client gone while its reply is pending: a later send is harmless and nothing stays counted")
    func clientGoneWhileReplyPending() async throws {
        let harness = try ServerHarness(hold: true)
        defer { harness.stop() }

        // Closed with FIN: the connection waits for the reply it owes, then closes.
        var polite: RawClient? = try RawClient(port: harness.port)
        polite!.send("GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(await Polling.waitUntilAsync { harness.counters.requestsInFlight == 1 })
        polite = nil
        // Reset: the connection closes at once and the request stops counting.
        var rude: RawClient? = try RawClient(port: harness.port)
        rude!.send("GET /y HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(await Polling.waitUntilAsync { harness.counters.requestsInFlight == 2 })
        var linger = linger(l_onoff: 1, l_linger: 0)
        setsockopt(rude!.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
        rude = nil
        #expect(await Polling.waitUntilAsync { harness.counters.requestsInFlight == 1 })

        harness.onLoop {
            for responder in harness.held { responder.send(HTTPResponse(status: 200, body: Array("late".utf8))) }
            harness.held = []
        }
        #expect(
            await Polling.waitUntilAsync { harness.counters.connections == 0 && harness.counters.requestsInFlight == 0 }
        )
        // The server goes on serving.
        let fresh = try RawClient(port: harness.port)
        fresh.send("GET /z HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(await Polling.waitUntilAsync { harness.received.load(ordering: .relaxed) == 3 })
        harness.onLoop {
            harness.held.first?.send(HTTPResponse(status: 204))
            harness.held = []
        }
        #expect(try fresh.readResponse().status == 204)
    }

    @Test("an idle keep-alive connection is closed quietly at the request deadline; a stalled reader at ioTimeout")
    func idleAndStalledClients() async throws {
        var configuration = HTTPServerConfiguration()
        configuration.requestTimeout = .milliseconds(300)
        configuration.ioTimeout = .milliseconds(300)
        let harness = try ServerHarness(configuration: configuration, hold: true)
        defer { harness.stop() }
        let idle = try RawClient(port: harness.port)
        #expect(await Polling.waitUntilAsync { idle.isClosedByPeer() })
        #expect(harness.counters.requestTimeouts == 0)

        // A client that never reads a 4 MiB reply.
        let stalled = try RawClient(port: harness.port)
        var small: Int32 = 4096
        setsockopt(stalled.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        stalled.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(await Polling.waitUntilAsync { harness.counters.requestsInFlight == 1 })
        harness.onLoop {
            harness.held.first?.send(HTTPResponse(status: 200, body: [UInt8](repeating: 120, count: 4 << 20)))
            harness.held = []
        }
        #expect(await Polling.waitUntilAsync { harness.counters.connections == 0 })
        #expect(harness.counters.requestsInFlight == 0)
    }

    @Test("servers on two loops share one port (SO_REUSEPORT)")
    func reusePort() throws {
        let first = try ServerHarness()
        defer { first.stop() }
        let loop = EventLoop(name: "second")
        let server = HTTPServer(loop: loop) { _, responder in responder.send(HTTPResponse(status: 204)) }
        #expect(try server.bind(ListenAddress(host: "127.0.0.1", port: first.port)) == first.port)
        server.close()
    }
}
