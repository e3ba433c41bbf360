import BusLoop
import CLibEvent

#if canImport(Glibc)
    import Glibc
#endif

/// Limits that keep slow, stalled, oversized or too many clients from pinning resources.
public struct HTTPServerConfiguration: Sendable {
    /// Largest body handed to the handler; larger ones get `bodyTooLargeResponse`.
    public var maxBodySize = 16 * 1024
    /// Bodies past this are cut off by libevent itself (its own plain 413) without buffering
    /// them; between `maxBodySize` and this the service's own 413 is sent.
    public var transportBodyLimit = 1024 * 1024
    /// Largest request line plus headers; libevent rejects larger ones.
    public var maxHeadersSize = 8 * 1024
    /// How long a connection may sit idle, or take to read a reply (libevent's timer, which
    /// restarts with every byte).
    public var ioTimeout: Duration = .seconds(10)
    /// A request (line, headers and body) must have arrived complete within this long of the
    /// connection opening or of the previous reply being written; else the connection gets
    /// `requestTimeoutResponse` and is closed. Unlike `ioTimeout`, a client sending one byte a
    /// second cannot stretch it.
    public var requestTimeout: Duration = .seconds(10)
    /// Most connections open at once across every server sharing `counters` (one service);
    /// a connection past it gets `connectionLimitResponse` and is closed at once.
    public var maxConnections = HTTPServerConfiguration.defaultMaxConnections
    /// Shared by the servers of one service: copies of a configuration share one cap.
    public var counters = HTTPServerCounters()
    public var backlog: Int32 = 1024
    /// Sent when a body exceeds `maxBodySize`.
    public var bodyTooLargeResponse = HTTPResponse(status: 413)
    /// Paths (exact, as requested) allowed a larger body than `maxBodySize`, with their own 413.
    /// Looked up only for a body past `maxBodySize`, so other requests pay nothing. Keep
    /// `transportBodyLimit` above the largest, or libevent's plain 413 answers first.
    public var pathBodyLimits: [String: PathBodyLimit] = [:]
    /// Sent when a handler dropped its responder without replying (a bug, but never a hang).
    public var unansweredResponse = HTTPResponse(status: 500)
    /// Written (best effort) to a connection refused because of `maxConnections`.
    public var connectionLimitResponse = HTTPResponse(status: 503, headers: ["Retry-After": "1"])
    /// Written (best effort) to a connection closed because of `requestTimeout`.
    public var requestTimeoutResponse = HTTPResponse(status: 408)

    public init() {}

    /// A larger body limit for one path.
    public struct PathBodyLimit: Sendable {
        public var maxBodySize: Int
        /// Sent when a body of this path exceeds `maxBodySize`.
        public var tooLargeResponse: HTTPResponse

        public init(maxBodySize: Int, tooLargeResponse: HTTPResponse) {
            self.maxBodySize = maxBodySize
            self.tooLargeResponse = tooLargeResponse
        }
    }

    /// 4096, or less when the open-file limit is lower: a quarter of the descriptors stays for
    /// Redis, Postgres, logs and the connections being refused, so that accept never reaches
    /// the limit in normal operation.
    public static var defaultMaxConnections: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 4096 }
        // RLIM_INFINITY is all ones: clamp before converting.
        return max(16, Int(min(4096, limit.rlim_cur / 4 * 3)))
    }
}

/// An HTTP/1.1 server on one event loop (libevent's evhttp).
///
/// Several servers on several loops can listen on the same port: each binds with
/// SO_REUSEPORT and the kernel spreads connections. Use a server only on its loop's thread.
///
/// The server follows every connection (libevent 2.1 has no per-connection hook of its own,
/// see `HTTPConnection`), so that it can count a request in flight until its reply is written,
/// close a connection whose request does not arrive in time, and refuse connections past the cap.
public final class HTTPServer {
    /// Handles one request; it must eventually call `responder.send(_:)` once (the responder
    /// replies 500 by itself if it is dropped unanswered).
    public typealias Handler = (HTTPRequest, HTTPResponder) -> Void

    public let loop: EventLoop
    let configuration: HTTPServerConfiguration
    private let handler: Handler
    private var http: OpaquePointer?
    private var boundSocket: OpaquePointer?
    private var drained: (() -> Void)?
    /// Set by `whenDrained`: replies then carry `Connection: close`.
    private var draining = false
    /// Connections whose evhttp_connection is known, by that pointer.
    private var connections: [OpaquePointer: HTTPConnection] = [:]
    /// Connections just accepted, whose evhttp_connection is not known yet (see `adopt`).
    private var accepted: [HTTPConnection] = []
    /// Activated when a connection is accepted; runs `adoptAccepted` once evhttp is done with it.
    private var adoptEvent: OpaquePointer?
    /// Runs the drained check outside libevent's own call stack.
    private var drainCheckEvent: OpaquePointer?
    private var acceptRetry: LoopTimer?

    /// Requests received whose reply has not been written yet (or whose client went away).
    public private(set) var inFlight = 0

    public init(loop: EventLoop, configuration: HTTPServerConfiguration = .init(), handler: @escaping Handler) {
        self.loop = loop
        self.configuration = configuration
        self.handler = handler
        let http = evhttp_new(loop.base)!
        self.http = http
        evhttp_set_max_body_size(http, configuration.transportBodyLimit)
        evhttp_set_max_headers_size(http, configuration.maxHeadersSize)
        var timeout = timeval(configuration.ioTimeout)
        evhttp_set_timeout_tv(http, &timeout)
        // Let every method through so that the router, not libevent, answers 405 with `Allow`.
        let allMethods = HTTPMethod.allCases.reduce(UInt16(0)) { $0 | $1.evhttpFlag }
        evhttp_set_allowed_methods(http, allMethods)
        // Every callback below gets an unretained self: close()/deinit free the evhttp and
        // these events (and detach every connection) before self is released.
        let unretained = Unmanaged.passUnretained(self).toOpaque()
        evhttp_set_gencb(
            http,
            { request, argument in
                let server = Unmanaged<HTTPServer>.fromOpaque(argument!).takeUnretainedValue()
                withExtendedLifetime(server) { server.receive(request!) }
            }, unretained)
        evhttp_set_bevcb(
            http,
            { base, argument in
                let server = Unmanaged<HTTPServer>.fromOpaque(argument!).takeUnretainedValue()
                return withExtendedLifetime(server) { server.makeBufferEvent(base!) }
            }, unretained)
        adoptEvent = event_new(
            loop.base, -1, 0,
            { _, _, argument in
                let server = Unmanaged<HTTPServer>.fromOpaque(argument!).takeUnretainedValue()
                withExtendedLifetime(server) { server.adoptAccepted() }
            }, unretained)
        drainCheckEvent = event_new(
            loop.base, -1, 0,
            { _, _, argument in
                let server = Unmanaged<HTTPServer>.fromOpaque(argument!).takeUnretainedValue()
                withExtendedLifetime(server) { server.checkDrained() }
            }, unretained)
    }

    deinit {
        tearDown()
    }

    /// Starts listening on `address` with SO_REUSEPORT; returns the bound port (useful with 0).
    ///
    /// SO_REUSEPORT lets this process's loops share the port; it would also let a second
    /// process share it silently, so call `ListenAddress.ensureNoListener()` once first.
    @discardableResult
    public func bind(_ address: ListenAddress) throws(BindError) -> Int {
        guard let http else { throw BindError(address: address, reason: "server is closed") }
        let storage = try address.resolve()
        let flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_EXEC
        let listener = storage.withSocketAddress { socketAddress, length in
            evconnlistener_new_bind(
                loop.base, nil, nil, UInt32(flags), configuration.backlog, socketAddress, Int32(length))
        }
        guard let listener else {
            throw BindError(address: address, reason: String(cString: strerror(errno)))
        }
        // evhttp owns the listener from here and frees it (closing the socket) with the server.
        boundSocket = evhttp_bind_listener(http, listener)
        // accept() failing (EMFILE at the descriptor limit) leaves the socket readable, so the
        // loop would spin on it: the error callback pauses accepting instead.
        ListenerOwners.register(http: http, server: self)
        evconnlistener_set_error_cb(listener) { listener, argument in
            guard let listener, let argument else { return }
            ListenerOwners.server(forHTTP: OpaquePointer(argument))?.acceptFailed(listener)
        }
        return sockaddr_storage.bound(to: evconnlistener_get_fd(listener))?.port ?? 0
    }

    /// Closes the listening socket; connections already open keep being served.
    public func stopAccepting() {
        loop.assertInLoop()
        acceptRetry?.cancel()
        pausedListener = nil
        if let http, let boundSocket {
            evhttp_del_accept_socket(http, boundSocket)
            self.boundSocket = nil
        }
    }

    /// Calls `done` once no request is in flight, that is once every reply was written to its
    /// client or the client went away (at once if none is). From now on replies carry
    /// `Connection: close`, so keep-alive clients go away after their answer.
    public func whenDrained(_ done: @escaping () -> Void) {
        loop.assertInLoop()
        draining = true
        if inFlight == 0 {
            done()
        } else {
            drained = done
        }
    }

    /// Closes every connection. Replies still pending are dropped silently.
    public func close() {
        loop.assertInLoop()
        acceptRetry?.cancel()
        tearDown()
    }

    var isClosed: Bool { http == nil }

    private func tearDown() {
        guard let http else { return }
        self.http = nil
        boundSocket = nil
        ListenerOwners.unregister(http: http)
        // Connections freed by evhttp_free must not call back into a server going away.
        for connection in connections.values { connection.detach() }
        let counters = configuration.counters
        counters.openConnections.subtract(connections.count + accepted.count, ordering: .relaxed)
        counters.inFlight.subtract(inFlight, ordering: .relaxed)
        connections = [:]
        inFlight = 0
        evhttp_free(http)
        // Our own reference on each accepted-but-not-adopted bufferevent, dropped after evhttp's.
        for connection in accepted { bufferevent_decref(connection.bufferEvent) }
        accepted = []
        if let adoptEvent { event_free(adoptEvent) }
        if let drainCheckEvent { event_free(drainCheckEvent) }
        adoptEvent = nil
        drainCheckEvent = nil
    }

    // MARK: - Connections

    /// evhttp's bufferevent callback: called for each accepted connection, before evhttp makes
    /// its evhttp_connection around the returned bufferevent.
    private func makeBufferEvent(_ base: OpaquePointer) -> OpaquePointer? {
        guard let bufferEvent = bufferevent_socket_new(base, -1, Int32(BEV_OPT_CLOSE_ON_FREE.rawValue)) else {
            return nil
        }
        // Our own reference, dropped in `adoptAccepted`: the bufferevent stays valid even if
        // evhttp frees its connection first.
        bufferevent_incref(bufferEvent)
        let open = configuration.counters.openConnections.add(1, ordering: .relaxed).newValue
        let connection = HTTPConnection(server: self, bufferEvent: bufferEvent)
        connection.refused = open > configuration.maxConnections
        accepted.append(connection)
        event_active(adoptEvent, 0, 0)
        return bufferEvent
    }

    /// Finds the evhttp_connection of each connection accepted since the last call.
    ///
    /// libevent 2.1 tells nothing when evhttp creates or frees a server connection (2.2 adds
    /// `evhttp_set_newreqcb`). evhttp creates it right after our bufferevent callback and makes
    /// itself the bufferevent's callback argument; this runs in the same loop pass, after the
    /// accept callback returned, and from then on the close callback reports the connection's
    /// end. A bufferevent whose callbacks are gone was already freed by evhttp (our reference
    /// kept it readable).
    private func adoptAccepted() {
        loop.assertInLoop()
        let batch = accepted
        accepted = []
        for connection in batch {
            var readCallback: bufferevent_data_cb?
            var argument: UnsafeMutableRawPointer?
            bufferevent_getcb(connection.bufferEvent, &readCallback, nil, nil, &argument)
            if readCallback == nil || argument == nil {
                configuration.counters.openConnections.subtract(1, ordering: .relaxed)
            } else {
                let evcon = OpaquePointer(argument!)
                connection.adopt(evcon)
                connections[evcon] = connection
                if connection.refused {
                    configuration.counters.refused.add(1, ordering: .relaxed)
                    connection.writeRaw(configuration.connectionLimitResponse)
                    // Frees the connection; its close callback (`closed`) untracks it.
                    evhttp_connection_free(evcon)
                } else {
                    connection.armDeadline(configuration.requestTimeout)
                }
            }
            bufferevent_decref(connection.bufferEvent)
        }
    }

    /// The request deadline of a connection passed before its request arrived complete.
    func deadlinePassed(_ connection: HTTPConnection) {
        loop.assertInLoop()
        guard let evcon = connection.evcon, connection.phase == .reading else { return }
        configuration.counters.timedOut.add(1, ordering: .relaxed)
        connection.writeRaw(configuration.requestTimeoutResponse)
        evhttp_connection_free(evcon)
    }

    /// evhttp is freeing `connection` (client gone, timeout, reply with `Connection: close`).
    func closed(_ connection: HTTPConnection) {
        loop.assertInLoop()
        guard let evcon = connection.evcon else { return }
        connection.detach()
        connections[evcon] = nil
        configuration.counters.openConnections.subtract(1, ordering: .relaxed)
        if connection.phase != .reading {
            // The reply is lost with its client: the request is no longer in flight.
            connection.phase = .reading
            requestEnded()
        }
        if let listener = pausedListener { resumeAccepting(listener) }
    }

    /// The reply on `connection` was written completely.
    func replyWritten(_ connection: HTTPConnection) {
        loop.assertInLoop()
        guard connection.phase == .writing else { return }
        connection.phase = .reading
        connection.armDeadline(configuration.requestTimeout)
        requestEnded()
    }

    private func requestEnded() {
        inFlight -= 1
        configuration.counters.inFlight.subtract(1, ordering: .relaxed)
        // Called from inside evhttp (it frees the request and maybe the connection after we
        // return), so the drain callback, which may free the server, runs in a later callback.
        if inFlight == 0, drained != nil { event_active(drainCheckEvent, 0, 0) }
    }

    private func checkDrained() {
        guard inFlight == 0, let drained else { return }
        self.drained = nil
        drained()
    }

    // MARK: - Accept errors

    private var pausedListener: OpaquePointer?

    /// accept() failed for a reason other than a retriable one (EMFILE, ENFILE, ENOBUFS):
    /// stop accepting until a connection closes or 100 ms passed, rather than spin.
    fileprivate func acceptFailed(_ listener: OpaquePointer) {
        loop.assertInLoop()
        configuration.counters.acceptFailures.add(1, ordering: .relaxed)
        guard pausedListener == nil else { return }
        evconnlistener_disable(listener)
        pausedListener = listener
        if acceptRetry == nil {
            acceptRetry = LoopTimer(loop: loop) { [unowned self] in
                if let listener = self.pausedListener { self.resumeAccepting(listener) }
            }
        }
        acceptRetry?.schedule(after: .milliseconds(100))
    }

    private func resumeAccepting(_ listener: OpaquePointer) {
        pausedListener = nil
        acceptRetry?.cancel()
        guard boundSocket != nil else { return }
        evconnlistener_enable(listener)
    }

    // MARK: - Requests

    private func receive(_ request: OpaquePointer) {
        loop.assertInLoop()
        if !accepted.isEmpty { adoptAccepted() }
        let connection = evhttp_request_get_connection(request).flatMap { connections[$0] }
        if let connection {
            connection.cancelDeadline()
            connection.phase = .handling
        }
        inFlight += 1
        configuration.counters.inFlight.add(1, ordering: .relaxed)
        let responder = HTTPResponder(server: self, request: request, connection: connection)
        let input = evhttp_request_get_input_buffer(request)
        let length = evbuffer_get_length(input)
        if length > configuration.maxBodySize, !configuration.pathBodyLimits.isEmpty {
            let limit = configuration.pathBodyLimits[Self.path(of: request)]
            if let limit, length > limit.maxBodySize {
                responder.send(limit.tooLargeResponse)
                return
            }
            if limit == nil {
                responder.send(configuration.bodyTooLargeResponse)
                return
            }
        } else if length > configuration.maxBodySize {
            responder.send(configuration.bodyTooLargeResponse)
            return
        }
        handler(Self.copyRequest(request, bodyLength: length), responder)
    }

    /// Writes `response` to the still-valid libevent `request`; libevent frees the request.
    func complete(_ request: OpaquePointer, on connection: HTTPConnection?, with response: HTTPResponse) {
        loop.assertInLoop()
        guard !isClosed else { return }
        guard let connection, !connection.isDetached, connection.phase == .handling else {
            // The client went away while the handler ran (its close already ended the request):
            // evhttp only frees the request. Untracked requests end here.
            if connection == nil { requestEnded() }
            evhttp_send_reply(request, Int32(response.status), HTTPResponse.reasonPhrase(response.status), nil)
            return
        }
        connection.phase = .writing
        let headers = evhttp_request_get_output_headers(request)
        for field in response.headers.fields {
            evhttp_add_header(headers, field.name, field.value)
        }
        if draining || Self.leftBodyUnread(request) { evhttp_add_header(headers, "Connection", "close") }
        if !response.body.isEmpty {
            let output = evhttp_request_get_output_buffer(request)
            response.body.withUnsafeBytes { _ = evbuffer_add(output, $0.baseAddress, $0.count) }
        }
        // Unretained connection: it stays in `connections` until its close callback, which
        // evhttp calls after this one if the connection goes down before the write completes.
        evhttp_request_set_on_complete_cb(
            request,
            { _, argument in
                let connection = Unmanaged<HTTPConnection>.fromOpaque(argument!).takeUnretainedValue()
                withExtendedLifetime(connection) { connection.server?.replyWritten(connection) }
            }, Unmanaged.passUnretained(connection).toOpaque())
        evhttp_send_reply(request, Int32(response.status), HTTPResponse.reasonPhrase(response.status), nil)
    }

    /// True when the client sent a body that libevent did not read: it reads none after HEAD,
    /// TRACE or a method it does not know, and would parse those bytes as the next request on
    /// the connection (answering the client's next request with a 400 of its own). Such a
    /// connection is closed after the reply instead.
    private static func leftBodyUnread(_ request: OpaquePointer) -> Bool {
        let command = evhttp_request_get_command(request).rawValue
        guard [HTTPMethod.head, .trace, .unrecognized].contains(where: { UInt32($0.evhttpFlag) == command })
        else { return false }
        let headers = evhttp_request_get_input_headers(request)
        if evhttp_find_header(headers, "Transfer-Encoding") != nil { return true }
        guard let length = evhttp_find_header(headers, "Content-Length") else { return false }
        return Int(String(cString: length)) != 0
    }

    /// The request's path, still percent-encoded ("/" when it has none).
    private static func path(of request: OpaquePointer) -> String {
        guard let uri = evhttp_request_get_evhttp_uri(request), let rawPath = evhttp_uri_get_path(uri),
            rawPath.pointee != 0
        else { return "/" }
        return String(cString: rawPath)
    }

    private static func copyRequest(_ request: OpaquePointer, bodyLength: Int) -> HTTPRequest {
        let method = HTTPMethod(evhttpCommand: evhttp_request_get_command(request))
        var path = "/"
        var query: String?
        if let uri = evhttp_request_get_evhttp_uri(request) {
            if let rawPath = evhttp_uri_get_path(uri), rawPath.pointee != 0 { path = String(cString: rawPath) }
            if let rawQuery = evhttp_uri_get_query(uri) { query = String(cString: rawQuery) }
        }
        var headers = HTTPHeaders()
        // The header list belongs to the request; keys and values are copied into Swift strings.
        var node = evhttp_request_get_input_headers(request)?.pointee.tqh_first
        while let field = node {
            headers.add(String(cString: field.pointee.key), String(cString: field.pointee.value))
            node = field.pointee.next.tqe_next
        }
        let input = evhttp_request_get_input_buffer(request)
        // No unsafeUninitializedCapacity for an empty body: with capacity 0 it writes the count
        // into the process-wide empty-array singleton, a data race between loops (ThreadSanitizer).
        let body =
            bodyLength == 0
            ? []
            : [UInt8](unsafeUninitializedCapacity: bodyLength) { buffer, count in
                count = max(0, evbuffer_copyout(input, buffer.baseAddress, bodyLength))
            }
        return HTTPRequest(method: method ?? .get, path: path, query: query, headers: headers, body: body)
    }
}

/// The one reply a request gets.
///
/// `send(_:)` works once; later calls are ignored (and trap in debug builds). A responder
/// dropped without a reply sends the server's `unansweredResponse`, so a forgotten path
/// can never leak the request or hang the client. Use it only on its server's loop.
public final class HTTPResponder {
    private let server: HTTPServer
    /// The connection the request came on (nil only if the server lost track of it).
    private let connection: HTTPConnection?
    /// The libevent request: valid until it is replied to; nil afterwards.
    private var request: OpaquePointer?

    init(server: HTTPServer, request: OpaquePointer, connection: HTTPConnection?) {
        self.server = server
        self.request = request
        self.connection = connection
    }

    deinit {
        if let request {
            server.complete(request, on: connection, with: server.configuration.unansweredResponse)
        }
    }

    /// True until a reply was sent.
    public var isPending: Bool { request != nil }

    /// Sends the reply. Must be called on the server's loop.
    public func send(_ response: HTTPResponse) {
        guard let request else {
            assertionFailure("a request was answered twice")
            return
        }
        self.request = nil
        server.complete(request, on: connection, with: response)
    }
}

extension HTTPMethod {
    fileprivate var evhttpFlag: UInt16 {
        let command: evhttp_cmd_type =
            switch self {
            case .get: EVHTTP_REQ_GET
            case .head: EVHTTP_REQ_HEAD
            case .post: EVHTTP_REQ_POST
            case .put: EVHTTP_REQ_PUT
            case .delete: EVHTTP_REQ_DELETE
            case .options: EVHTTP_REQ_OPTIONS
            case .trace: EVHTTP_REQ_TRACE
            case .connect: EVHTTP_REQ_CONNECT
            case .patch: EVHTTP_REQ_PATCH
            // EVHTTP_REQ_UNKNOWN_ (http-internal.h, libevent 2.1): the type libevent gives a
            // method it does not know. Allowing it lets such requests reach the handler.
            case .unrecognized: evhttp_cmd_type(rawValue: 1 << 15)
            }
        return UInt16(command.rawValue)
    }

    fileprivate init?(evhttpCommand: evhttp_cmd_type) {
        guard let method = HTTPMethod.allCases.first(where: { UInt32($0.evhttpFlag) == evhttpCommand.rawValue })
        else { return nil }
        self = method
    }
}
