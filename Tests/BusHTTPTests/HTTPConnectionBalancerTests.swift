import BusLoop
import BusTesting
import Synchronization
import Testing

@testable import BusHTTP

@Suite("HTTP server: connections spread evenly over a service's loops")
struct HTTPConnectionBalancerTests {
    @Test("a connection goes to the server of its port holding the fewest, never to a withdrawn one")
    func placement() {
        let balancer = HTTPConnectionBalancer()
        let loop = EventLoop(name: "placement")
        func server() -> LoopBound<HTTPConnectionBalancer.ServerReference> {
            LoopBound(HTTPConnectionBalancer.ServerReference(server: nil), loop: loop)
        }
        let first = balancer.register(server(), port: 8080)
        let second = balancer.register(server(), port: 8080)
        let otherPort = balancer.register(server(), port: 9090)
        // Accepted by the first server each time: kept, handed over, kept, handed over.
        #expect(balancer.place(acceptedBy: first) == nil)
        #expect(balancer.place(acceptedBy: first)?.slot == second)
        #expect(balancer.place(acceptedBy: first) == nil)
        #expect(balancer.place(acceptedBy: first)?.slot == second)
        #expect(balancer.connectionsPerServer == [2, 2, 0], "the other port's empty server takes none")
        balancer.closed(second, count: 2)
        #expect(balancer.place(acceptedBy: first)?.slot == second)
        balancer.withdraw(second)
        #expect(balancer.place(acceptedBy: first) == nil)
        #expect(balancer.place(acceptedBy: first) == nil)
        #expect(balancer.place(acceptedBy: otherPort) == nil)
        #expect(balancer.connectionsPerServer == [4, 1, 1])
    }

    @Test("32 keep-alive connections to two loops' servers on one port end up 16 and 16, each served")
    func twoLoopsShareEvenly() async throws {
        let configuration = HTTPServerConfiguration()
        let first = try ServerHarness(configuration: configuration)
        defer { first.stop() }
        let loop = EventLoop(name: "second")
        let received = Atomic<Int>(0)
        let server = HTTPServer(loop: loop, configuration: configuration) { _, responder in
            received.add(1, ordering: .relaxed)
            responder.send(HTTPResponse(status: 200, body: Array("ok".utf8)))
        }
        #expect(try server.bind(ListenAddress(host: "127.0.0.1", port: first.port)) == first.port)
        let thread = LoopThread(loop: loop)
        thread.start()
        let bound = LoopBound(server, loop: loop)
        defer {
            loop.execute {
                bound.value.close()
                loop.stop()
            }
            thread.join()
        }
        // Without the balancer the kernel's hash decides: 16/16 only one time in seven.
        var clients: [RawClient] = []
        for _ in 0..<32 {
            let client = try RawClient(port: first.port)
            client.send("GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 200)
            clients.append(client)
        }
        #expect(first.received.load(ordering: .relaxed) == 16)
        #expect(received.load(ordering: .relaxed) == 16)
        #expect(configuration.balancer.connectionsPerServer == [16, 16])
        clients.removeAll()
        #expect(await Polling.waitUntilAsync(timeout: .seconds(10)) { configuration.counters.connections == 0 })
        #expect(configuration.balancer.connectionsPerServer == [0, 0])
    }
}
