@_spi(LoopInternals) import BusLoop
import CLibEvent

#if canImport(Glibc)
    import Glibc
#endif

/// Limits that keep slow, stalled, oversized or too many clients from pinning resources.
package struct HTTPServerConfiguration: Sendable {
    /// Largest body handed to the handler; a larger one gets `bodyTooLargeResponse` as soon as
    /// its head (or the chunk crossing the limit) arrives, and is never buffered.
    package var maxBodySize = 16 * 1024
    /// After a refusal (413, a malformed request) the server shuts its side and reads and
    /// throws away what the client still sends, for up to 2 s and at most this many bytes, so
    /// that the close does not reset the connection before the client read the refusal.
    package var transportBodyLimit = 8 * 1024 * 1024
    /// Largest request line plus headers; a larger head gets 431.
    package var maxHeadersSize = 8 * 1024
    /// Most header fields in one request; more get 431.
    package var maxHeaderFields = 100
    /// How long a reply may wait for the client to take it (the socket's send buffer full).
    package var ioTimeout: Duration = .seconds(10)
    /// A request (line, headers and body) must have arrived complete within this long of the
    /// connection opening or of the previous reply being written; else the connection gets
    /// `requestTimeoutResponse` and is closed (an idle keep-alive connection, which has sent
    /// nothing of a next request, is closed quietly). A client sending one byte a second
    /// cannot stretch it.
    package var requestTimeout: Duration = .seconds(10)
    /// Most connections open at once across every server sharing `counters` (one service);
    /// a connection past it gets `connectionLimitResponse` and is closed at once.
    package var maxConnections = HTTPServerConfiguration.defaultMaxConnections
    /// Shared by the servers of one service: copies of a configuration share one cap.
    package var counters = HTTPServerCounters()
    /// Shared by the servers of one service like `counters`: spreads their connections evenly.
    package var balancer = HTTPConnectionBalancer()
    package var backlog: Int32 = 1024
    /// Sent when a body exceeds `maxBodySize`.
    package var bodyTooLargeResponse = HTTPResponse(status: 413)
    /// Paths (exact, as requested) allowed a larger body than `maxBodySize`, with their own 413.
    /// Looked up once per request only when the table is not empty.
    package var pathBodyLimits: [String: PathBodyLimit] = [:]
    /// Sent when a handler dropped its responder without replying (a bug, but never a hang).
    package var unansweredResponse = HTTPResponse(status: 500)
    /// Written (best effort) to a connection refused because of `maxConnections`.
    package var connectionLimitResponse = HTTPResponse(status: 503, headers: ["Retry-After": "1"])
    /// Written (best effort) to a connection closed because of `requestTimeout`.
    package var requestTimeoutResponse = HTTPResponse(status: 408)

    package init() {}

    /// A larger body limit for one path.
    package struct PathBodyLimit: Sendable {
        package var maxBodySize: Int
        /// Sent when a body of this path exceeds `maxBodySize`.
        package var tooLargeResponse: HTTPResponse

        package init(maxBodySize: Int, tooLargeResponse: HTTPResponse) {
            self.maxBodySize = maxBodySize
            self.tooLargeResponse = tooLargeResponse
        }
    }

    /// 4096, or less when the open-file limit is lower: a quarter of the descriptors stays for
    /// Redis, Postgres, logs and the connections being refused, so that accept never reaches
    /// the limit in normal operation.
    package static var defaultMaxConnections: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 4096 }
        // RLIM_INFINITY is all ones: clamp before converting.
        return max(16, Int(min(4096, limit.rlim_cur / 4 * 3)))
    }
}

/// An HTTP/1.1 server on one event loop: libevent's listener and events on nonblocking
/// sockets, with BusHTTP's own parser (`HTTPRequestParser`) and connections (`HTTPConnection`).
///
/// Several servers on several loops can listen on the same port: each binds with
/// SO_REUSEPORT and the kernel spreads connections. Use a server only on its loop's thread.
///
/// Keep-alive and pipelining: a connection hands the handler one request at a time and parses
/// the next one only once the reply is written, so replies always leave in request order.
package final class HTTPServer {
    /// Handles one request; it must eventually call `responder.send(_:)` once (the responder
    /// replies 500 by itself if it is dropped unanswered).
    package typealias Handler = (HTTPRequest, HTTPResponder) -> Void

    package let loop: EventLoop
    let configuration: HTTPServerConfiguration
    let handler: Handler
    /// The loop's shared timer queues for the server's timeouts (`event_base_init_common_timeout`:
    /// arming one costs a list append, not a heap insertion). Owned by the loop's base.
    let timeouts: (request: UnsafePointer<timeval>, io: UnsafePointer<timeval>, linger: UnsafePointer<timeval>)
    /// `configuration.requestTimeout` and `ioTimeout` in nanoseconds, for the connections'
    /// deadlines.
    let requestTimeoutNanoseconds: UInt64
    let ioTimeoutNanoseconds: UInt64
    private var listener: OpaquePointer?
    /// Every open connection; the table's reference keeps each alive until it closes.
    private var connections: [ObjectIdentifier: HTTPConnection] = [:]
    private var drained: (() -> Void)?
    /// Set by `whenDrained`: replies then carry `Connection: close`.
    private(set) var draining = false
    private(set) var isClosed = false
    /// Runs the drained check outside a connection's own callback.
    private var drainCheckEvent: OpaquePointer?
    private var acceptRetry: LoopTimer?
    /// This server's place in `configuration.balancer`, once it listens.
    private var balancerSlot: Int?
    private var acceptPaused = false
    private var date = HTTPDateField()

    /// Requests received whose reply has not been written yet (or whose client went away).
    package private(set) var inFlight = 0

    package init(loop: EventLoop, configuration: HTTPServerConfiguration = .init(), handler: @escaping Handler) {
        self.loop = loop
        self.configuration = configuration
        self.handler = handler
        func common(_ duration: Duration) -> UnsafePointer<timeval> {
            var tv = timeval(duration)
            return event_base_init_common_timeout(loop.base, &tv)
        }
        timeouts = (common(configuration.requestTimeout), common(configuration.ioTimeout), common(.seconds(2)))
        func nanoseconds(_ duration: Duration) -> UInt64 {
            let (seconds, attoseconds) = duration.components
            return seconds < 0 ? 0 : UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
        }
        requestTimeoutNanoseconds = nanoseconds(configuration.requestTimeout)
        ioTimeoutNanoseconds = nanoseconds(configuration.ioTimeout)
        // Unretained self: close()/deinit free the event before self is released.
        drainCheckEvent = event_new(
            loop.base, -1, 0,
            { _, _, argument in
                let server = Unmanaged<HTTPServer>.fromOpaque(argument!).takeUnretainedValue()
                withExtendedLifetime(server) { server.checkDrained() }
            }, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        tearDown()
    }

    /// Starts listening on `address` with SO_REUSEPORT; returns the bound port (useful with 0).
    ///
    /// SO_REUSEPORT lets this process's loops share the port; it would also let a second
    /// process share it silently, so call `ListenAddress.ensureNoListener()` once first.
    @discardableResult
    package func bind(_ address: ListenAddress) throws(BindError) -> Int {
        guard !isClosed, listener == nil else {
            throw BindError(address: address, reason: "server is closed or already bound")
        }
        let storage = try address.resolve()
        let flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_EXEC
        // The listener's argument is this server, unretained: it is freed before the server goes.
        let listener = storage.withSocketAddress { socketAddress, length in
            evconnlistener_new_bind(
                loop.base,
                { _, fd, _, _, argument in
                    let server = Unmanaged<HTTPServer>.fromOpaque(argument!).takeUnretainedValue()
                    withExtendedLifetime(server) { server.accept(fd) }
                }, Unmanaged.passUnretained(self).toOpaque(), UInt32(flags), configuration.backlog, socketAddress,
                Int32(length))
        }
        guard let listener else {
            throw BindError(address: address, reason: String(cString: strerror(errno)))
        }
        self.listener = listener
        let port = sockaddr_storage.bound(to: evconnlistener_get_fd(listener))?.port ?? 0
        balancerSlot = configuration.balancer.register(
            LoopBound(HTTPConnectionBalancer.ServerReference(server: self), loop: loop), port: port)
        // accept() failing (EMFILE at the descriptor limit) leaves the socket readable, so the
        // loop would spin on it: the error callback pauses accepting instead.
        evconnlistener_set_error_cb(listener) { _, argument in
            let server = Unmanaged<HTTPServer>.fromOpaque(argument!).takeUnretainedValue()
            withExtendedLifetime(server) { server.acceptFailed() }
        }
        return port
    }

    /// Closes the listening socket; connections already open keep being served.
    package func stopAccepting() {
        loop.assertInLoop()
        acceptRetry?.cancel()
        acceptPaused = false
        if let listener {
            evconnlistener_free(listener)
            self.listener = nil
        }
        if let balancerSlot { configuration.balancer.withdraw(balancerSlot) }
    }

    /// Calls `done` once no request is in flight, that is once every reply was written to its
    /// client or the client went away (at once if none is). From now on replies carry
    /// `Connection: close`, so keep-alive clients go away after their answer.
    package func whenDrained(_ done: @escaping () -> Void) {
        loop.assertInLoop()
        draining = true
        if inFlight == 0 {
            done()
        } else {
            drained = done
        }
    }

    /// Closes every connection. Replies still pending are dropped silently.
    package func close() {
        loop.assertInLoop()
        tearDown()
    }

    private func tearDown() {
        guard !isClosed else { return }
        isClosed = true
        acceptRetry?.cancel()
        if let listener { evconnlistener_free(listener) }
        listener = nil
        for connection in connections.values { connection.abandon() }
        if let balancerSlot {
            configuration.balancer.withdraw(balancerSlot)
            configuration.balancer.closed(balancerSlot, count: connections.count)
        }
        let counters = configuration.counters
        counters.openConnections.subtract(connections.count, ordering: .relaxed)
        counters.inFlight.subtract(inFlight, ordering: .relaxed)
        connections = [:]
        inFlight = 0
        if let drainCheckEvent { event_free(drainCheckEvent) }
        drainCheckEvent = nil
    }

    // MARK: - Connections

    /// A connection was accepted (nonblocking, close-on-exec, by the listener).
    private func accept(_ fd: Int32) {
        let open = configuration.counters.openConnections.add(1, ordering: .relaxed).newValue
        guard open <= configuration.maxConnections, !isClosed else {
            configuration.counters.refused.add(1, ordering: .relaxed)
            // Best effort: a fresh socket's send buffer takes a short reply whole.
            var bytes: [UInt8] = []
            _ = configuration.connectionLimitResponse.serialize(
                into: &bytes, headOnly: false, closing: true, http10: false, date: dateField())
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            Glibc.close(fd)
            configuration.counters.openConnections.subtract(1, ordering: .relaxed)
            return
        }
        if let balancerSlot, let (slot, target) = configuration.balancer.place(acceptedBy: balancerSlot) {
            // The descriptor travels by value to the target's loop, which owns it from then on.
            let balancer = configuration.balancer
            let counters = configuration.counters
            target.loop.execute {
                guard let server = target.value.server, !server.isClosed else {
                    Glibc.close(fd)
                    counters.openConnections.subtract(1, ordering: .relaxed)
                    balancer.closed(slot)
                    return
                }
                server.serve(fd)
            }
            return
        }
        serve(fd)
    }

    /// Serves an accepted connection on this loop.
    private func serve(_ fd: Int32) {
        // Replies go out in one send each; Nagle would only delay the rare second segment.
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let connection = HTTPConnection(server: self, fd: fd)
        connections[ObjectIdentifier(connection)] = connection
    }

    /// `connection` closed its socket (client gone, timeout, `Connection: close`).
    func connectionClosed(_ connection: HTTPConnection, requestLost: Bool) {
        connections[ObjectIdentifier(connection)] = nil
        configuration.counters.openConnections.subtract(1, ordering: .relaxed)
        if let balancerSlot { configuration.balancer.closed(balancerSlot) }
        // The reply is lost with its client: the request is no longer in flight.
        if requestLost { requestEnded() }
        if acceptPaused { resumeAccepting() }
    }

    func requestStarted() {
        inFlight += 1
        configuration.counters.inFlight.add(1, ordering: .relaxed)
    }

    func requestEnded() {
        inFlight -= 1
        configuration.counters.inFlight.subtract(1, ordering: .relaxed)
        // Called from a connection's callback, which goes on after we return; the drain
        // callback may free the server, so it runs in a callback of its own.
        if inFlight == 0, drained != nil { event_active(drainCheckEvent, 0, 0) }
    }

    private func checkDrained() {
        guard inFlight == 0, let drained else { return }
        self.drained = nil
        drained()
    }

    /// The body limit of `path`: its own, or `maxBodySize`.
    func bodyLimit(path: String) -> HTTPServerConfiguration.PathBodyLimit {
        if !configuration.pathBodyLimits.isEmpty, let limit = configuration.pathBodyLimits[path] { return limit }
        return .init(maxBodySize: configuration.maxBodySize, tooLargeResponse: configuration.bodyTooLargeResponse)
    }

    /// The `Date` field line of this second.
    func dateField() -> [UInt8] {
        date.current()
    }

    /// The answer to a request that could not be read, in the contract's error shape.
    static func response(for error: HTTPParseError) -> HTTPResponse {
        let (code, message) =
            switch error {
            case .malformed(let reason): ("bad_request", "malformed HTTP request: \(reason)")
            case .headersTooLarge: ("header_fields_too_large", "the request line and headers are too large")
            case .unsupportedTransferEncoding: ("not_implemented", "only the chunked transfer coding is supported")
            case .unsupportedVersion: ("http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are supported")
            }
        // `message` holds no quote or backslash, so it is JSON text as it is.
        return .json(error.status, #"{"error": {"code": "\#(code)", "message": "\#(message)"}}"#)
    }

    // MARK: - Accept errors

    /// accept() failed for a reason other than a retriable one (EMFILE, ENFILE, ENOBUFS):
    /// stop accepting until a connection closes or 100 ms passed, rather than spin.
    private func acceptFailed() {
        loop.assertInLoop()
        configuration.counters.acceptFailures.add(1, ordering: .relaxed)
        guard !acceptPaused, let listener else { return }
        evconnlistener_disable(listener)
        acceptPaused = true
        if acceptRetry == nil {
            acceptRetry = LoopTimer(loop: loop) { [unowned self] in
                if self.acceptPaused { self.resumeAccepting() }
            }
        }
        acceptRetry?.schedule(after: .milliseconds(100))
    }

    private func resumeAccepting() {
        acceptPaused = false
        acceptRetry?.cancel()
        if let listener { evconnlistener_enable(listener) }
    }
}

/// The one reply a request gets.
///
/// `send(_:)` works once; later calls are ignored (and trap in debug builds). A responder
/// dropped without a reply sends the server's `unansweredResponse`, so a forgotten path
/// can never hang the client. Sending after the client went away (or the server closed) does
/// nothing. Use it only on its server's loop.
package final class HTTPResponder {
    private let connection: HTTPConnection
    private let generation: UInt64
    private var answered = false

    init(connection: HTTPConnection, generation: UInt64) {
        self.connection = connection
        self.generation = generation
    }

    deinit {
        if !answered { connection.replyUnanswered(generation: generation) }
    }

    /// True until a reply was sent.
    package var isPending: Bool { !answered }

    /// Sends the reply. Must be called on the server's loop.
    package func send(_ response: HTTPResponse) {
        guard !answered else {
            assertionFailure("a request was answered twice")
            return
        }
        answered = true
        connection.reply(response, generation: generation)
    }
}

/// `Date: <IMF-fixdate>\r\n`, formatted once a second (RFC 9110 §6.6.1).
struct HTTPDateField {
    private var second: time_t = -1
    private var field: [UInt8] = []

    mutating func current() -> [UInt8] {
        let now = time(nil)
        if now != second {
            second = now
            field = Self.format(now)
        }
        return field
    }

    static func format(_ time: time_t) -> [UInt8] {
        var seconds = time
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let text =
            "Date: \(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) "
            + "\(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT\r\n"
        return Array(text.utf8)
    }
}
