import BusHTTP
import BusLoop
import BusTesting
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An `HTTPServer` on its own loop thread, listening on a free loopback port.
final class ServerHarness: @unchecked Sendable {
    // @unchecked Sendable: `server` and `held` are touched only on the loop (via `onLoop`).
    let loop = EventLoop(name: "http-test")
    private let thread: LoopThread
    private(set) var server: HTTPServer!
    private(set) var port = 0
    let counters: HTTPServerCounters
    /// Responders the handler kept instead of answering (when `hold` is true).
    var held: [HTTPResponder] = []
    /// The requests of `held`, in the same order.
    var heldRequests: [HTTPRequest] = []
    /// How many requests the handler got.
    let received = Atomic<Int>(0)

    /// `hold`: keep every responder in `held`; `echo`: answer 200 with
    /// "<method> <path> <query> <body length>\n" and the body; else answer 200 "ok" at once.
    init(configuration: HTTPServerConfiguration = .init(), hold: Bool = false, echo: Bool = false) throws {
        counters = configuration.counters
        thread = LoopThread(loop: loop)
        var server: HTTPServer!
        server = HTTPServer(loop: loop, configuration: configuration) { [unowned self] request, responder in
            self.received.add(1, ordering: .relaxed)
            if hold {
                self.held.append(responder)
                self.heldRequests.append(request)
            } else if echo {
                let line = "\(request.method.rawValue) \(request.path) \(request.query ?? "-") \(request.body.count)\n"
                responder.send(HTTPResponse(status: 200, body: Array(line.utf8) + request.body))
            } else {
                responder.send(HTTPResponse(status: 200, body: Array("ok".utf8)))
            }
        }
        self.server = server
        port = try server.bind(ListenAddress(host: "127.0.0.1", port: 0))
        thread.start()
    }

    /// Runs `body` on the loop and waits for it.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        loop.waitForFixture { complete in complete(body()) }
    }

    func stop() {
        loop.execute { [self] in
            held = []
            server.close()
            loop.stop()
        }
        thread.join()
    }
}

/// A plain blocking TCP client that sends exactly what it is told.
final class RawClient {
    let fd: Int32

    init(port: Int, timeout: Int = 10) throws {
        fd = try LoopbackPorts.connect(port: port, timeout: timeout)
    }

    deinit { close(fd) }

    /// False when the peer is gone (EPIPE / ECONNRESET).
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Bytes read past the last response returned (a pipelined reply's beginning).
    private var received: [UInt8] = []

    /// Reads one response: head, then `Content-Length` bytes of body (none when `headOnly`,
    /// the reply to HEAD). Throws on EOF or an error before the response is complete.
    func readResponse(headOnly: Bool = false) throws -> (status: Int, headers: String, body: [UInt8]) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let split = received.firstRange(of: [13, 10, 13, 10]) {
                let head = String(decoding: received[..<split.lowerBound], as: UTF8.self)
                let length =
                    headOnly
                    ? 0
                    : head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                        .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                let bodyStart = split.upperBound
                if received.count - bodyStart >= length {
                    let status = Int(head.split(separator: " ")[1]) ?? 0
                    let body = Array(received[bodyStart..<bodyStart + length])
                    received.removeFirst(bodyStart + length)
                    return (status, head, body)
                }
            }
            let count = read(fd, &buffer, buffer.count)
            if count > 0 {
                received.append(contentsOf: buffer[0..<count])
            } else if count == 0 {
                throw FixtureError("connection closed after \(received.count) bytes")
            } else if errno != EINTR {
                throw FixtureError("read failed: errno \(errno) after \(received.count) bytes")
            }
        }
    }

    /// Whatever arrives within `milliseconds` (nothing is an empty array).
    func readAvailable(waiting milliseconds: Int32) -> [UInt8] {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, milliseconds) == 1 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return count > 0 ? Array(buffer[0..<count]) : []
    }

    /// True once the server closed the connection (EOF or reset); reads and drops what it sent.
    func isClosedByPeer() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count > 0 { continue }
            if count == 0 { return true }
            return errno == ECONNRESET || errno == EPIPE
        }
    }
}
