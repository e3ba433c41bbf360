import BusLoop
import CLibEvent

#if canImport(Glibc)
    import Glibc
#endif

/// Limits that keep slow, stalled or oversized clients from pinning resources.
public struct HTTPServerConfiguration: Sendable {
    /// Largest body handed to the handler; larger ones get `bodyTooLargeResponse`.
    public var maxBodySize = 16 * 1024
    /// Bodies past this are cut off by libevent itself (its own plain 413) without buffering
    /// them; between `maxBodySize` and this the service's own 413 is sent.
    public var transportBodyLimit = 1024 * 1024
    /// Largest request line plus headers; libevent rejects larger ones.
    public var maxHeadersSize = 8 * 1024
    /// How long a connection may sit idle, or take to send a request or read a reply.
    public var ioTimeout: Duration = .seconds(10)
    public var backlog: Int32 = 1024
    /// Sent when a body exceeds `maxBodySize`.
    public var bodyTooLargeResponse = HTTPResponse(status: 413)
    /// Sent when a handler dropped its responder without replying (a bug, but never a hang).
    public var unansweredResponse = HTTPResponse(status: 500)

    public init() {}
}

/// An HTTP/1.1 server on one event loop (libevent's evhttp).
///
/// Several servers on several loops can listen on the same port: each binds with
/// SO_REUSEPORT and the kernel spreads connections. Use a server only on its loop's thread.
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

    /// Requests received whose reply has not been sent yet.
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
        // Unretained self: evhttp_free in close()/deinit runs before self is released.
        evhttp_set_gencb(
            http,
            { request, argument in
                let server = Unmanaged<HTTPServer>.fromOpaque(argument!).takeUnretainedValue()
                withExtendedLifetime(server) { server.receive(request!) }
            }, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        if let http { evhttp_free(http) }
    }

    /// Starts listening on `address` with SO_REUSEPORT; returns the bound port (useful with 0).
    @discardableResult
    public func bind(_ address: ListenAddress) throws(BindError) -> Int {
        guard let http else { throw BindError(address: address, reason: "server is closed") }
        var (storage, length) = try address.resolve()
        let flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_EXEC
        let listener = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                evconnlistener_new_bind(
                    loop.base, nil, nil, UInt32(flags), configuration.backlog, socketAddress, Int32(length))
            }
        }
        guard let listener else {
            throw BindError(address: address, reason: String(cString: strerror(errno)))
        }
        // evhttp owns the listener from here and frees it (closing the socket) with the server.
        boundSocket = evhttp_bind_listener(http, listener)
        var bound = sockaddr_storage()
        var boundLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutablePointer(to: &bound) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = getsockname(evconnlistener_get_fd(listener), $0, &boundLength)
            }
        }
        return bound.port
    }

    /// Closes the listening socket; connections already open keep being served.
    public func stopAccepting() {
        loop.assertInLoop()
        if let http, let boundSocket {
            evhttp_del_accept_socket(http, boundSocket)
            self.boundSocket = nil
        }
    }

    /// Calls `done` once no request is in flight (at once if none is).
    public func whenDrained(_ done: @escaping () -> Void) {
        loop.assertInLoop()
        if inFlight == 0 {
            done()
        } else {
            drained = done
        }
    }

    /// Closes every connection. Replies still pending are dropped silently.
    public func close() {
        loop.assertInLoop()
        guard let http else { return }
        self.http = nil
        boundSocket = nil
        evhttp_free(http)
    }

    var isClosed: Bool { http == nil }

    private func receive(_ request: OpaquePointer) {
        loop.assertInLoop()
        inFlight += 1
        let responder = HTTPResponder(server: self, request: request)
        let input = evhttp_request_get_input_buffer(request)
        let length = evbuffer_get_length(input)
        if length > configuration.maxBodySize {
            responder.send(configuration.bodyTooLargeResponse)
            return
        }
        handler(Self.copyRequest(request, bodyLength: length), responder)
    }

    /// Writes `response` to the still-valid libevent `request`; libevent frees the request.
    func complete(_ request: OpaquePointer, with response: HTTPResponse) {
        loop.assertInLoop()
        inFlight -= 1
        guard !isClosed else { return }
        let headers = evhttp_request_get_output_headers(request)
        for field in response.headers.fields {
            evhttp_add_header(headers, field.name, field.value)
        }
        if !response.body.isEmpty {
            let output = evhttp_request_get_output_buffer(request)
            response.body.withUnsafeBytes { _ = evbuffer_add(output, $0.baseAddress, $0.count) }
        }
        if Self.leftBodyUnread(request) { evhttp_add_header(headers, "Connection", "close") }
        evhttp_send_reply(request, Int32(response.status), HTTPResponse.reasonPhrase(response.status), nil)
        if inFlight == 0, let drained {
            self.drained = nil
            drained()
        }
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
        let body = [UInt8](unsafeUninitializedCapacity: bodyLength) { buffer, count in
            count = bodyLength == 0 ? 0 : max(0, evbuffer_copyout(input, buffer.baseAddress, bodyLength))
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
    /// The libevent request: valid until it is replied to; nil afterwards.
    private var request: OpaquePointer?

    init(server: HTTPServer, request: OpaquePointer) {
        self.server = server
        self.request = request
    }

    deinit {
        if let request {
            server.complete(request, with: server.configuration.unansweredResponse)
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
        server.complete(request, with: response)
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

extension sockaddr_storage {
    fileprivate var port: Int {
        var copy = self
        return withUnsafePointer(to: &copy) { pointer in
            switch Int32(ss_family) {
            case AF_INET:
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin_port))
                }
            case AF_INET6:
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin6_port))
                }
            default:
                0
            }
        }
    }
}
