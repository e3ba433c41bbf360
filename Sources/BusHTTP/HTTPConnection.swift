@_spi(LoopInternals) import BusLoop
import CLibEvent

#if canImport(Glibc)
    import Glibc
#endif

/// One client connection of an `HTTPServer`: a nonblocking socket read straight into its own
/// buffer, requests parsed in place, one request handled at a time, each reply written with
/// one `send` where the socket takes it.
///
/// Ownership: the server's table holds the connection from accept until `close`; the three
/// libevent events carry it unretained and are freed in `close` (or `abandon`, when the server
/// goes), before the table lets go. A responder holds it strongly, so a reply after the client
/// left finds a closed connection and does nothing. `server` is unowned(unsafe): a closed
/// connection never touches it, and the server closes every connection before it goes.
final class HTTPConnection {
    enum State {
        /// Waiting for (or reading) a request: the request deadline runs.
        case reading
        /// The handler has the request.
        case handling
        /// A reply is being written; `ioTimeout` runs while the socket does not take it.
        case writing
        /// A refusal was written and the write side shut down: what the client still sends is
        /// read and thrown away, so that closing does not reset the connection before the
        /// client read the refusal.
        case lingering
        case closed
    }

    unowned(unsafe) let server: HTTPServer
    let fd: Int32
    private(set) var state = State.reading

    private var readEvent: OpaquePointer?
    private var writeEvent: OpaquePointer?
    private var timer: OpaquePointer?
    /// Monotonic nanoseconds by which the request being read must be complete (see `timerFired`).
    private var readDeadline: UInt64 = 0
    /// When the armed timer fires (monotonic nanoseconds); 0 while it is not armed.
    private var timerDue: UInt64 = 0
    private var readPaused = false
    private var writeArmed = false

    /// Received bytes; `input[start..<end]` is not consumed yet.
    private var input: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    /// The reply being written; `output[written...]` is still to go.
    private var output: [UInt8] = []
    private var written = 0

    /// A head whose body is still arriving, with the body limit of its path.
    private var pendingHead: HTTPRequestHead?
    private var pendingLimit = HTTPServerConfiguration.PathBodyLimit(
        maxBodySize: 0, tooLargeResponse: .init(status: 413))
    /// Bumped per request, so that a stale responder cannot answer a later request.
    private var generation: UInt64 = 0
    /// A request was handed to the handler and its reply is not written: it counts in flight.
    private var inRequest = false
    private var headOnly = false
    private var keepAlive = true
    private var http10 = false
    private var closeAfterWrite = false
    private var lingerAfterWrite = false
    /// The client closed its side (EOF): the reply pending, if any, is the last.
    private var inputClosed = false
    /// Inside `processInput`: a reply written synchronously must not start it again.
    private var processing = false
    private var discarded = 0

    private static let initialCapacity = 4096

    init(server: HTTPServer, fd: Int32) {
        self.server = server
        self.fd = fd
        input = .allocate(byteCount: Self.initialCapacity, alignment: 16)
        let unretained = Unmanaged.passUnretained(self).toOpaque()
        let base = server.loop.base
        readEvent = event_new(
            base, fd, Int16(EV_READ | EV_PERSIST),
            { _, _, argument in
                let connection = Unmanaged<HTTPConnection>.fromOpaque(argument!).takeUnretainedValue()
                withExtendedLifetime(connection) { connection.readable() }
            }, unretained)
        writeEvent = event_new(
            base, fd, Int16(EV_WRITE | EV_PERSIST),
            { _, _, argument in
                let connection = Unmanaged<HTTPConnection>.fromOpaque(argument!).takeUnretainedValue()
                withExtendedLifetime(connection) { connection.flush() }
            }, unretained)
        timer = event_new(
            base, -1, 0,
            { _, _, argument in
                let connection = Unmanaged<HTTPConnection>.fromOpaque(argument!).takeUnretainedValue()
                withExtendedLifetime(connection) { connection.timerFired() }
            }, unretained)
        event_add(readEvent, nil)
        readDeadline = Clocks.monotonicNanoseconds() &+ server.requestTimeoutNanoseconds
        armTimer(server.timeouts.request, due: readDeadline)
    }

    deinit {
        assert(state == .closed, "a connection was released open")
    }

    // MARK: - Reading

    private func readable() {
        if state == .lingering { return discard() }
        guard makeRoom() else {
            // Full while a request is handled: stop reading until its reply is written.
            event_del(readEvent)
            readPaused = true
            return
        }
        let count = read(fd, input.baseAddress! + end, input.count - end)
        if count > 0 {
            end += count
            if state == .reading { processInput() }
        } else if count == 0 {
            inputClosed = true
            // The reply pending, if any, still goes out; an idle or half-sent request ends here.
            if state == .reading { close() } else { event_del(readEvent) }
        } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
            close()
        }
    }

    /// Makes room in `input` for at least one more byte and for `needed` bytes from `start`
    /// (a whole request): moves the unread bytes to the front, and grows the buffer while a
    /// request is being read. False when there is no room.
    private func makeRoom(needed: Int = 0) -> Bool {
        let wanted = max(needed, end - start + 1)
        if start + wanted <= input.count { return true }
        if start > 0 {
            if end > start { input.baseAddress!.copyMemory(from: input.baseAddress! + start, byteCount: end - start) }
            end -= start
            start = 0
        }
        if wanted <= input.count { return true }
        // While a request is handled the buffer only holds what was pipelined behind it.
        guard state == .reading else { return false }
        let capacity = min(max(wanted, input.count * 2), maximumCapacity)
        guard capacity >= wanted else { return false }
        let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        grown.baseAddress!.copyMemory(from: input.baseAddress!, byteCount: end)
        input.deallocate()
        input = grown
        return true
    }

    /// The largest buffer a request may need: a head and the largest body any path allows,
    /// with room for chunk framing.
    private var maximumCapacity: Int {
        let configuration = server.configuration
        let largestBody = configuration.pathBodyLimits.values.reduce(configuration.maxBodySize) {
            max($0, $1.maxBodySize)
        }
        return configuration.maxHeadersSize + 2 * largestBody + 4096
    }

    /// Parses and hands over the requests in `input`, one at a time, until one is pending.
    private func processInput() {
        processing = true
        handOverRequests()
        processing = false
        // A client that closed its side sends nothing more: what is left can never complete.
        if inputClosed, state == .reading { close() }
    }

    private func handOverRequests() {
        while state == .reading {
            // The parsed head stays a local unless its body has yet to arrive: storing it in
            // `pendingHead` and reading it back cost two copies and three destructions of its
            // strings and fields per request.
            let head: HTTPRequestHead
            if let pending = pendingHead {
                head = pending
            } else {
                guard start < end else { return }
                // The two limits read one by one: a copy of the whole configuration cost a retain
                // and a release of each of its fields per request.
                let maxHeadersSize = server.configuration.maxHeadersSize
                let parse = HTTPRequestParser.parseHead(
                    UnsafeRawBufferPointer(rebasing: input[start..<end]), maxSize: maxHeadersSize,
                    maxFields: server.configuration.maxHeaderFields)
                switch parse {
                case .incomplete:
                    if end == input.count { _ = makeRoom(needed: maxHeadersSize + 4) }
                    return
                case .failed(let error):
                    return refuse(HTTPServer.response(for: error), linger: true)
                case .complete(let parsed):
                    pendingLimit = server.bodyLimit(path: parsed.path)
                    if case .length(let length) = parsed.framing, length > pendingLimit.maxBodySize {
                        return refuse(pendingLimit.tooLargeResponse, linger: true)
                    }
                    if parsed.expectsContinue, !bodyArrived(parsed) { sendContinue() }
                    head = parsed
                }
            }
            guard let (body, consumed) = takeBody(head) else {
                // Still reading: the body has yet to arrive (a refusal cleared the head).
                if state == .reading, pendingHead == nil { pendingHead = head }
                return
            }
            if pendingHead != nil { pendingHead = nil }
            start += consumed
            if start == end {
                start = 0
                end = 0
            }
            dispatch(head, body: body)
        }
    }

    private func bodyArrived(_ head: HTTPRequestHead) -> Bool {
        guard case .length(let length) = head.framing else { return false }
        return end - start - head.length >= length
    }

    /// The body of `head` and the bytes the whole request took, once it has all arrived.
    private func takeBody(_ head: HTTPRequestHead) -> ([UInt8], Int)? {
        let bodyStart = start + head.length
        switch head.framing {
        case .none:
            return ([], head.length)
        case .length(let length):
            guard end - bodyStart >= length else {
                if end == input.count { _ = makeRoom(needed: head.length + length) }
                return nil
            }
            let body = [UInt8](UnsafeRawBufferPointer(rebasing: input[bodyStart..<(bodyStart + length)]))
            return (body, head.length + length)
        case .chunked:
            let bytes = UnsafeRawBufferPointer(rebasing: input[bodyStart..<end])
            switch ChunkedBody.scan(
                bytes, limit: pendingLimit.maxBodySize, maxTrailerSize: server.configuration.maxHeadersSize)
            {
            case .incomplete:
                if end == input.count, !makeRoom(needed: input.count + 1) {
                    refuse(pendingLimit.tooLargeResponse, linger: true)
                }
                return nil
            case .tooLarge:
                refuse(pendingLimit.tooLargeResponse, linger: true)
                return nil
            case .failed(let error):
                refuse(HTTPServer.response(for: error), linger: true)
                return nil
            case .complete(let length, let bodySize):
                return (ChunkedBody.decode(bytes, bodySize: bodySize), head.length + length)
            }
        }
    }

    /// `100 Continue`, so that a client waiting for it sends the body. The socket has nothing
    /// else queued (no reply is pending while reading), so the 25 bytes go out whole.
    private func sendContinue() {
        let line: StaticString = "HTTP/1.1 100 Continue\r\n\r\n"
        _ = send(fd, line.utf8Start, line.utf8CodeUnitCount, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
    }

    private func dispatch(_ head: HTTPRequestHead, body: [UInt8]) {
        // The request timer stays armed while the handler runs (see `timerFired`): deleting it
        // here and adding it back after the reply cost ~800 instructions per request.
        state = .handling
        generation &+= 1
        inRequest = true
        headOnly = head.method == .head
        keepAlive = head.keepAlive
        http10 = head.minorVersion == 0
        server.requestStarted()
        let request = HTTPRequest(
            method: head.method, path: head.path, query: head.query, headers: head.headers, body: body)
        server.handler(request, HTTPResponder(connection: self, generation: generation))
    }

    // MARK: - Writing

    /// The handler's reply to request `generation`; ignored when that request is gone (the
    /// client left, or the server closed).
    func reply(_ response: HTTPResponse, generation: UInt64) {
        guard state == .handling, generation == self.generation else { return }
        server.loop.assertInLoop()
        // After the client's FIN, requests it pipelined before it are still answered.
        let closing = !keepAlive || (inputClosed && start == end) || server.draining
        closeAfterWrite = response.serialize(
            into: &output, headOnly: headOnly, closing: closing, http10: http10, date: server.dateField())
        state = .writing
        flush()
    }

    /// The handler dropped its responder unanswered.
    func replyUnanswered(generation: UInt64) {
        guard state == .handling, generation == self.generation else { return }
        reply(server.configuration.unansweredResponse, generation: generation)
    }

    /// Answers without a request in flight (a limit, a parse error, the deadline) and closes.
    private func refuse(_ response: HTTPResponse, linger: Bool) {
        pendingHead = nil
        closeAfterWrite = response.serialize(
            into: &output, headOnly: false, closing: true, http10: false, date: server.dateField())
        lingerAfterWrite = linger
        state = .writing
        flush()
    }

    /// Writes what is left of `output`; called again by the write event while the socket is full.
    private func flush() {
        guard state == .writing else { return }
        while written < output.count {
            let count = output.withUnsafeBytes {
                send(fd, $0.baseAddress! + written, $0.count - written, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if count > 0 {
                written += count
            } else if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                if !writeArmed {
                    event_add(writeEvent, nil)
                    writeArmed = true
                }
                armTimer(server.timeouts.io, due: Clocks.monotonicNanoseconds() &+ server.ioTimeoutNanoseconds)
                return
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                return close()
            }
        }
        if writeArmed {
            event_del(writeEvent)
            writeArmed = false
        }
        written = 0
        // A large reply's buffer is not kept for the connection's life.
        if output.capacity > 65536 { output = [] } else { output.removeAll(keepingCapacity: true) }
        replyWritten()
    }

    private func replyWritten() {
        if inRequest {
            inRequest = false
            server.requestEnded()
        }
        if lingerAfterWrite || (closeAfterWrite && start < end) { return linger() }
        if closeAfterWrite { return close() }
        if start == end, input.count > 65536 {
            // The room a large request took is not kept for the connection's life.
            input.deallocate()
            input = .allocate(byteCount: Self.initialCapacity, alignment: 16)
            start = 0
            end = 0
        }
        state = .reading
        // The next request's deadline; the armed timer, due no later, re-arms for the rest when
        // it fires early (an `event_add` per request was the cost).
        readDeadline = Clocks.monotonicNanoseconds() &+ server.requestTimeoutNanoseconds
        if timerDue == 0 || timerDue > readDeadline { armTimer(server.timeouts.request, due: readDeadline) }
        if readPaused {
            readPaused = false
            event_add(readEvent, nil)
        }
        if !processing { processInput() }
    }

    // MARK: - Ending

    private func linger() {
        guard !inputClosed else { return close() }
        state = .lingering
        shutdown(fd, Int32(SHUT_WR))
        start = 0
        end = 0
        if readPaused {
            readPaused = false
            event_add(readEvent, nil)
        }
        armTimer(server.timeouts.linger, due: 0)
    }

    /// Arms the timer with one of the server's shared timeouts, due at `due` (0: not tracked,
    /// the connection is ending).
    private func armTimer(_ timeout: UnsafePointer<timeval>, due: UInt64) {
        event_add(timer, timeout)
        timerDue = due == 0 ? UInt64.max : due
    }

    private func discard() {
        let count = read(fd, input.baseAddress!, input.count)
        if count > 0 {
            discarded += count
            if discarded > server.configuration.transportBodyLimit { close() }
        } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            close()
        }
    }

    private func timerFired() {
        timerDue = 0
        switch state {
        case .reading:
            // Armed for an earlier deadline than the current one (the reply moved it): wait for
            // the rest.
            let now = Clocks.monotonicNanoseconds()
            if now < readDeadline {
                var rest = timeval(.nanoseconds(Int64(readDeadline - now) + 999))
                event_add(timer, &rest)
                timerDue = readDeadline
                return
            }
            guard start < end || pendingHead != nil else {
                // Idle between requests: close quietly, as keep-alive clients expect.
                return close()
            }
            server.configuration.counters.timedOut.add(1, ordering: .relaxed)
            refuse(server.configuration.requestTimeoutResponse, linger: false)
        case .writing, .lingering:
            close()
        case .handling:
            // No deadline while the handler works; the reply sets the next one.
            armTimer(server.timeouts.request, due: Clocks.monotonicNanoseconds() &+ server.requestTimeoutNanoseconds)
        case .closed:
            break
        }
    }

    /// Closes the socket and leaves the server's table; a reply still pending is lost.
    func close() {
        guard state != .closed else { return }
        let requestLost = inRequest
        abandon()
        server.connectionClosed(self, requestLost: requestLost)
    }

    /// Frees the socket, the events and the buffers without telling the server (it is going).
    func abandon() {
        guard state != .closed else { return }
        state = .closed
        inRequest = false
        for event in [readEvent, writeEvent, timer] { if let event { event_free(event) } }
        readEvent = nil
        writeEvent = nil
        timer = nil
        Glibc.close(fd)
        input.deallocate()
        input = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        output = []
    }
}
