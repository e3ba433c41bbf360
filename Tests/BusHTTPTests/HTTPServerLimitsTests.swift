import BusHTTP
import BusTesting
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("HTTP server: drain, request deadline, connection cap")
struct HTTPServerLimitsTests {
    @Test("a drain waits until every reply is written, not only queued")
    func drainWritesEveryReply() async throws {
        let harness = try ServerHarness(hold: true)
        let clients = 24
        // Large bodies take many loop passes to write, so a reply that is only queued when the
        // server closes is cut short.
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 256 * 1024)
        let results = Mutex<[Result<Int, any Error>]>([])
        let group = DispatchGroup()
        for _ in 0..<clients {
            group.enter()
            Thread.detachNewThread {
                let result = Result<Int, any Error> {
                    let client = try RawClient(port: harness.port)
                    client.send("GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
                    let response = try client.readResponse()
                    guard response.status == 200 else { throw FixtureError("status \(response.status)") }
                    return response.body.count
                }
                results.withLock { $0.append(result) }
                group.leave()
            }
        }
        #expect(await Polling.waitUntilAsync { harness.counters.requestsInFlight == clients })
        harness.loop.waitForFixture { [harness] closed in
            harness.server.stopAccepting()
            harness.server.whenDrained {
                harness.server.close()
                closed(())
            }
            for responder in harness.held { responder.send(HTTPResponse(status: 200, body: body)) }
            harness.held = []
        }
        group.wait()
        let outcomes = results.withLock { $0 }
        #expect(outcomes.count == clients)
        for outcome in outcomes {
            switch outcome {
            case .success(let length): #expect(length == body.count)
            case .failure(let error): Issue.record("a client lost its reply: \(error)")
            }
        }
        #expect(harness.counters.requestsInFlight == 0)
        harness.stop()
    }

    @Test("a client dripping one header byte at a time is closed at the request deadline")
    func slowDripIsCut() async throws {
        var configuration = HTTPServerConfiguration()
        configuration.requestTimeout = .milliseconds(500)
        configuration.ioTimeout = .seconds(10)
        let harness = try ServerHarness(configuration: configuration)
        defer { harness.stop() }

        let client = try RawClient(port: harness.port)
        let request = Array("GET /slow HTTP/1.1\r\nHost: t\r\nX-Padding: " + String(repeating: "a", count: 200))
        var closed = false
        // Each byte restarts libevent's own idle timer; only the request deadline ends this.
        for byte in request {
            if client.isClosedByPeer() || !client.send(String(byte)) {
                closed = true
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(closed, "the server kept reading a request that dripped for 10 s")
        #expect(harness.counters.requestTimeouts == 1)
        #expect(await Polling.waitUntilAsync { harness.counters.connections == 0 })

        // A prompt request on a fresh connection is still served, and keep-alive requests each
        // get their own deadline.
        let fresh = try RawClient(port: harness.port)
        for _ in 0..<3 {
            fresh.send("GET /ok HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try fresh.readResponse().status == 200)
        }
    }

    @Test("a keep-alive connection's deadline runs from its last reply, past the timer armed for an earlier one")
    func deadlineFollowsReplies() async throws {
        var configuration = HTTPServerConfiguration()
        configuration.requestTimeout = .seconds(2)
        let harness = try ServerHarness(configuration: configuration)
        defer { harness.stop() }

        let client = try RawClient(port: harness.port)
        // The timer armed at the first reply falls due at ~2 s; the second reply (at ~1.2 s)
        // moved the deadline to ~3.2 s, so the third request (at ~2.4 s) is served.
        for round in 0..<3 {
            if round > 0 { try await Task.sleep(for: .milliseconds(1200)) }
            #expect(client.send("GET /ok HTTP/1.1\r\nHost: t\r\n\r\n"), "round \(round)")
            #expect(try client.readResponse().status == 200, "round \(round)")
        }
        #expect(harness.counters.requestTimeouts == 0)
        // Idle after that: closed quietly at its deadline.
        #expect(await Polling.waitUntilAsync(timeout: .seconds(30)) { harness.counters.connections == 0 })
    }

    @Test("past the connection cap a connection gets 503 and is closed; closing others makes room")
    func connectionCap() async throws {
        var configuration = HTTPServerConfiguration()
        configuration.maxConnections = 3
        configuration.connectionLimitResponse = HTTPResponse(status: 503, body: Array("full".utf8))
        let harness = try ServerHarness(configuration: configuration)
        defer { harness.stop() }

        var open = try (0..<3).map { _ in try RawClient(port: harness.port) }
        #expect(await Polling.waitUntilAsync { harness.counters.connections == 3 })
        let extra = try RawClient(port: harness.port)
        let refused = try extra.readResponse()
        #expect(refused.status == 503)
        #expect(await Polling.waitUntilAsync { extra.isClosedByPeer() })
        #expect(harness.counters.refusedConnections == 1)

        for client in open {
            client.send("GET /ok HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().status == 200)
        }
        open.removeLast(2)
        #expect(await Polling.waitUntilAsync { harness.counters.connections == 1 })
        let later = try (0..<2).map { _ in try RawClient(port: harness.port) }
        for client in later + open {
            client.send("GET /ok HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().status == 200)
        }
        #expect(harness.counters.refusedConnections == 1)
    }
}
