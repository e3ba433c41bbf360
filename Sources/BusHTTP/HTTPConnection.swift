import BusLoop
import CLibEvent
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One client connection of an `HTTPServer`, as the server follows it.
///
/// Made when evhttp accepts the connection; `adopt` attaches it to evhttp's connection and
/// registers the close callback, and `detach` (on close, or when the server goes away) removes
/// every callback and timer pointing at it. Owned by the server's table; C callbacks hold it
/// unretained, which is safe because `detach` runs before the table lets it go.
final class HTTPConnection {
    enum Phase {
        /// Waiting for (or reading) a request; the request deadline runs.
        case reading
        /// The handler has the request.
        case handling
        /// The reply is queued and being written.
        case writing
    }

    weak var server: HTTPServer?
    /// The bufferevent made for evhttp; freed by evhttp with its connection.
    let bufferEvent: OpaquePointer
    /// evhttp's connection, once adopted; nil after `detach`.
    private(set) var evcon: OpaquePointer?
    private(set) var isDetached = false
    var phase = Phase.reading
    /// Past the connection cap: answered 503 and closed as soon as it is adopted.
    var refused = false
    /// The request deadline, a loop timer event whose argument is this object, unretained.
    private var deadline: OpaquePointer?

    init(server: HTTPServer, bufferEvent: OpaquePointer) {
        self.server = server
        self.bufferEvent = bufferEvent
    }

    deinit {
        if let deadline { event_free(deadline) }
    }

    /// Attaches evhttp's connection and asks it to report its end (`HTTPServer.closed`).
    func adopt(_ evcon: OpaquePointer) {
        self.evcon = evcon
        evhttp_connection_set_closecb(
            evcon,
            { _, argument in
                let connection = Unmanaged<HTTPConnection>.fromOpaque(argument!).takeUnretainedValue()
                // Held for the whole call: the server drops its reference while handling it.
                withExtendedLifetime(connection) { connection.server?.closed(connection) }
            }, Unmanaged.passUnretained(self).toOpaque())
        deadline = event_new(
            bufferevent_get_base(bufferEvent), -1, 0,
            { _, _, argument in
                let connection = Unmanaged<HTTPConnection>.fromOpaque(argument!).takeUnretainedValue()
                withExtendedLifetime(connection) { connection.server?.deadlinePassed(connection) }
            }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Removes the close callback and the deadline: nothing in libevent points here any more.
    func detach() {
        guard !isDetached else { return }
        isDetached = true
        if let evcon { evhttp_connection_set_closecb(evcon, nil, nil) }
        if let deadline { event_del(deadline) }
    }

    func armDeadline(_ timeout: Duration) {
        guard let deadline, !isDetached else { return }
        var tv = timeval(timeout)
        event_add(deadline, &tv)
    }

    func cancelDeadline() {
        if let deadline { event_del(deadline) }
    }

    /// Writes `response` straight to the socket, without blocking and best effort, for a
    /// connection about to be closed (its request, if any, is never read).
    func writeRaw(_ response: HTTPResponse) {
        let fd = bufferevent_getfd(bufferEvent)
        guard fd >= 0 else { return }
        let bytes = response.closingBytes
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
    }
}

extension HTTPResponse {
    /// The whole response as HTTP/1.1 bytes, with `Content-Length` and `Connection: close`.
    var closingBytes: [UInt8] {
        var text = "HTTP/1.1 \(status) \(HTTPResponse.reasonPhrase(status))\r\n"
        for field in headers.fields { text += "\(field.name): \(field.value)\r\n" }
        text += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        return Array(text.utf8) + body
    }
}

/// Which server owns each evhttp: the listener's error callback gets the evhttp (the listener's
/// callback argument, set by evhttp_bind_listener), not the server. Touched only at bind,
/// close and on accept errors, never per request.
enum ListenerOwners {
    /// evhttp address → unretained server address; an entry lives from bind to the server's close.
    private static let owners = Mutex<[UInt: UInt]>([:])

    static func register(http: OpaquePointer, server: HTTPServer) {
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(http)))
        let value = UInt(bitPattern: Int(bitPattern: Unmanaged.passUnretained(server).toOpaque()))
        owners.withLock { $0[key] = value }
    }

    static func unregister(http: OpaquePointer) {
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(http)))
        _ = owners.withLock { $0.removeValue(forKey: key) }
    }

    /// The server, valid for the current callback: it is on this loop and unregisters before it goes.
    static func server(forHTTP http: OpaquePointer) -> HTTPServer? {
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(http)))
        guard let value = owners.withLock({ $0[key] }), let pointer = UnsafeMutableRawPointer(bitPattern: value)
        else { return nil }
        return Unmanaged<HTTPServer>.fromOpaque(pointer).takeUnretainedValue()
    }
}
