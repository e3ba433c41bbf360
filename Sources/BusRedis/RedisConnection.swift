@_spi(LoopInternals) import BusLoop
import CHiredis
import DequeModule

/// Where and how to talk to one Redis server.
package struct RedisConnectionConfiguration: Sendable, Equatable {
    /// A host name (resolved on the loop, without blocking it) or an IP address.
    package var host: String
    package var port: Int
    package var database: Int
    /// An ACL user (Redis 6+): the handshake sends `AUTH username password`. Nil: `AUTH password`
    /// (the `default` user).
    package var username: String?
    package var password: String?
    /// How long a command may wait for its reply before it fails with `.timedOut` and the
    /// connection is recycled.
    package var commandTimeout: Duration = .seconds(1)
    /// How long resolving the host name, connecting and the AUTH/SELECT/PING handshake may take
    /// together.
    package var connectTimeout = RedisConnectionConfiguration.defaultConnectTimeout
    /// Commands allowed to wait for replies at once; more fail fast with `.overloaded` instead
    /// of growing hiredis's unbounded output buffer.
    package var maxOutstanding = RedisConnectionConfiguration.defaultMaxOutstanding
    package var reconnectBackoff = ReconnectBackoff()

    /// `connectTimeout` unless a caller sets it.
    package static let defaultConnectTimeout: Duration = .seconds(1)
    /// `maxOutstanding` unless a caller sets it.
    package static let defaultMaxOutstanding = 1024

    package init(host: String, port: Int, database: Int = 0, username: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
    }
}

/// One asynchronous Redis connection on an event loop (hiredis's async API and its libevent
/// adapter), with per-command timeouts, a cap on outstanding commands and reconnects.
///
/// Commands are pipelined: every command issued in one loop iteration goes out in one write.
/// Completions run on the loop's thread, possibly synchronously inside `send` (when the
/// connection is down or full). Call `close()` before dropping the connection.
package final class RedisConnection {
    package typealias Completion = (Result<RedisReply, RedisError>) -> Void

    private struct Pending {
        let completion: Completion
        /// Monotonic nanoseconds after which the command counts as timed out.
        let deadline: UInt64
    }

    /// A command sent while a first connect attempt is under way; it goes out once the
    /// connection is ready, or fails with the attempt (bounded by the connect timeout).
    private struct Held {
        let command: RedisCommand
        let completion: Completion
        let deadline: UInt64
    }

    package let loop: EventLoop
    package let configuration: RedisConnectionConfiguration
    /// What each connect attempt connects to.
    package let endpoint: RedisEndpoint

    /// Pub/sub messages after `subscribe(_:)`: the channel and the payload. Called on the loop.
    package var onMessage: ((_ channel: String, _ payload: RedisReply) -> Void)?

    /// Called on the loop when the connection becomes usable (`true`) or stops being usable.
    package var onReadinessChange: ((Bool) -> Void)?

    private var machine = RedisConnectionStateMachine()
    /// The live hiredis context, nil while disconnected. hiredis owns its memory: we free it
    /// with `redisAsyncFree` or hiredis frees it after its disconnect callback.
    private var context: UnsafeMutablePointer<redisAsyncContext>?
    /// The host name lookup of the current connect attempt, if one is under way.
    private var lookup: NameLookup?
    /// Callbacks hiredis will call, oldest first: replies arrive in command order.
    private var pending = Deque<Pending>()
    private var held = Deque<Held>()
    private var armedDeadline: UInt64?
    private var announcedReady: Bool?
    /// Backoff jitter; its own state, not the zero-size system generator (see `JitterRandom`).
    private var random = JitterRandom()

    private lazy var deadlineTimer = LoopTimer(loop: loop) { [unowned self] in self.checkDeadlines() }
    private lazy var connectTimer = LoopTimer(loop: loop) { [unowned self] in
        let resolving = self.lookup?.isPending == true
        let host = self.connectedServer?.host ?? self.configuration.host
        self.lastError = "connect to \(self.endpointDescription) timed out\(resolving ? " resolving \(host)" : "")"
        self.perform(self.machine.failed())
    }
    private lazy var reconnectTimer = LoopTimer(loop: loop) { [unowned self] in
        self.perform(self.machine.reconnectTimerFired())
    }
    /// Writes what this loop pass's callbacks queued, once they have all run: in the same pass,
    /// in one write. Left to the adapter, the commands waited for the write event it arms, which
    /// cost an `epoll_ctl` to arm it, a wake-up to see the socket writable and an `epoll_ctl` to
    /// disarm it, per write. Armed and disarmed within one pass, the adapter's changes cancel out
    /// in libevent's change list before they reach the kernel.
    private lazy var flushTimer = LoopTimer(loop: loop) { [unowned self] in
        self.flushDue = false
        if let context = self.context { redisAsyncHandleWrite(context) }
    }
    /// True from the first command of a pass until its flush: the pass's later commands skip
    /// `event_active`, which takes libevent's base lock even for an event already due. (Should
    /// a flush never run, the adapter's own write event still sends the commands a pass later.)
    private var flushDue = false

    /// The most recent connection error, for readiness reports and logs.
    package private(set) var lastError: String?
    /// The server of the current connect attempt or connection; nil while disconnected.
    package private(set) var connectedServer: RedisServerAddress?
    /// Our registration with a `SentinelMaster` endpoint, while started.
    private var masterObservation: SentinelMaster.Observation?

    /// A connection to the server at the configuration's host and port.
    package convenience init(loop: EventLoop, configuration: RedisConnectionConfiguration) {
        self.init(
            loop: loop, configuration: configuration,
            endpoint: .server(RedisServerAddress(host: configuration.host, port: configuration.port)))
    }

    /// A connection to `endpoint`; for `.sentinelMaster`, the configuration's host and port are
    /// not used (its database, user, password and timeouts are).
    package init(loop: EventLoop, configuration: RedisConnectionConfiguration, endpoint: RedisEndpoint) {
        self.loop = loop
        self.configuration = configuration
        self.endpoint = endpoint
    }

    deinit {
        assert(context == nil, "RedisConnection dropped without close()")
        if let context {
            // Detach first so that callbacks run by the free below find no owner.
            context.pointee.data = nil
            redisAsyncFree(context)
        }
    }

    /// True while commands are accepted.
    package var isReady: Bool { machine.isReady }

    /// The state, for diagnostics.
    package var state: RedisConnectionStateMachine.State { machine.state }

    /// Commands waiting for their replies, or for the connection to come up.
    package var outstanding: Int { pending.count + held.count }

    package var endpointDescription: String {
        switch endpoint {
        case .server(let server): server.description
        case .sentinelMaster(let master):
            "master \(master.address.masterName) (\(connectedServer.map(\.description) ?? "unknown"))"
        }
    }

    /// Starts connecting; reconnects by itself until `close()`.
    package func start() {
        loop.assertInLoop()
        if case .sentinelMaster(let master) = endpoint, masterObservation == nil, machine.state == .idle {
            masterObservation = master.observe { [unowned self] newMaster in self.masterChanged(to: newMaster) }
        }
        perform(machine.start())
    }

    /// Subscribes to `channel` (`SUBSCRIBE`); its messages go to `onMessage`. Only on a ready
    /// connection used for nothing else: hiredis puts the connection in subscribed mode, where
    /// ordinary commands get no reply it can match. A reconnect drops the subscription, so
    /// subscribe again when `onReadinessChange` reports true. False when not ready.
    @discardableResult
    package func subscribe(_ channel: String) -> Bool {
        loop.assertInLoop()
        guard machine.isReady, let context else { return false }
        // hiredis keeps the callback per channel and calls it for the confirmation and for each
        // message (with a NULL reply when the context goes); no entry joins `pending`.
        let status = RedisCommand("SUBSCRIBE", .string(channel)).withCommandBytes {
            redisAsyncFormattedCommand(context, redisPublished, nil, $0, $1)
        }
        return status == REDIS_OK
    }

    /// Sends `command`; `completion` gets the reply, or why there is none.
    package func send(_ command: RedisCommand, timeout: Duration? = nil, _ completion: @escaping Completion) {
        loop.assertInLoop()
        guard outstanding < configuration.maxOutstanding else {
            completion(.failure(.overloaded))
            return
        }
        let timeout = timeout ?? configuration.commandTimeout
        if machine.isReady, let context {
            enqueue(command, on: context, timeout: timeout, completion)
        } else if machine.holdsCommands {
            let deadline = Clocks.monotonicNanoseconds() &+ timeout.nanoseconds
            held.append(Held(command: command, completion: completion, deadline: deadline))
        } else {
            completion(.failure(.unavailable))
        }
    }

    /// When the connection is waiting out its reconnect backoff, connects now instead (another
    /// connection to the same server just succeeded).
    package func reconnectNow() {
        loop.assertInLoop()
        guard case .waitingToReconnect = machine.state else { return }
        reconnectTimer.cancel()
        perform(machine.retryNow())
    }

    /// Closes the connection for good; waiting commands fail with `.unavailable`.
    package func close() {
        loop.assertInLoop()
        if case .sentinelMaster(let master) = endpoint, let masterObservation {
            master.stopObserving(masterObservation)
            self.masterObservation = nil
        }
        perform(machine.close())
    }

    /// The Sentinel master moved (or is being looked for: nil). A connection to any other
    /// server is dropped at once, so commands fail fast instead of reaching a demoted master;
    /// a connection waiting to reconnect connects to the new master without waiting its backoff.
    private func masterChanged(to newMaster: RedisServerAddress?) {
        if let connectedServer, connectedServer != newMaster {
            lastError = "\(endpointDescription): no longer the master"
            perform(machine.failed())
        }
        if newMaster != nil { reconnectNow() }
    }

    // MARK: - Acting on the state machine

    private func perform(_ action: RedisConnectionStateMachine.Action) {
        switch action {
        case .none:
            break
        case .connect:
            guard let server = currentServer() else {
                // No master known (a failover is being followed): fail at once, so commands
                // fail fast; `masterChanged` reconnects when one is.
                lastError = "\(endpointDescription): no master: \(masterLastError ?? "resolving")"
                perform(machine.failed())
                return
            }
            connectedServer = server
            connectTimer.schedule(after: configuration.connectTimeout)
            resolveAndConnect(server)
        case .sendHandshake:
            sendHandshake()
        case .becameReady:
            connectTimer.cancel()
            lastError = nil
            announce(ready: true)
            releaseHeld()
        case .reconnect(let attempt, _):
            connectTimer.cancel()
            cancelLookup()
            // Announced before the waiting commands fail, so a caller answering 503 for one of
            // them never finds the connection still counted as ready.
            announce(ready: false)
            freeContext(failing: .disconnected)
            failHeld()
            reconnectTimer.schedule(after: configuration.reconnectBackoff.delay(attempt: attempt, using: &random))
        case .tearDown:
            connectTimer.cancel()
            reconnectTimer.cancel()
            deadlineTimer.cancel()
            cancelLookup()
            freeContext(failing: .unavailable)
            failHeld()
        }
    }

    /// Sends the commands held during the connect attempt, each with what is left of its time.
    private func releaseHeld() {
        let now = Clocks.monotonicNanoseconds()
        while let entry = held.popFirst() {
            guard entry.deadline > now else {
                entry.completion(.failure(.timedOut))
                continue
            }
            guard machine.isReady, let context else {
                // A completion above may have closed the connection.
                entry.completion(.failure(.unavailable))
                continue
            }
            enqueue(entry.command, on: context, timeout: .nanoseconds(Int64(entry.deadline - now)), entry.completion)
        }
    }

    private func failHeld() {
        while let entry = held.popFirst() { entry.completion(.failure(.unavailable)) }
    }

    private func announce(ready: Bool) {
        guard announcedReady != ready else { return }
        announcedReady = ready
        onReadinessChange?(ready)
    }

    /// Where the next connect attempt goes: the fixed server, or the master the Sentinels named
    /// and `ROLE` confirmed (nil while none is).
    private func currentServer() -> RedisServerAddress? {
        switch endpoint {
        case .server(let server): server
        case .sentinelMaster(let master): master.master
        }
    }

    private var masterLastError: String? {
        if case .sentinelMaster(let master) = endpoint { return master.lastError }
        return nil
    }

    /// Resolves the host on the loop's resolver, then connects to its first address.
    ///
    /// hiredis 0.14.1's `redisAsyncConnect` calls the blocking `getaddrinfo`, which for a host
    /// name would freeze this loop (and every region on it) for as long as the DNS takes; given
    /// an address it returns at once. The lookup counts against the connect timeout: the connect
    /// timer is already running, and a lookup that never answers ends as a failed connect.
    private func resolveAndConnect(_ server: RedisServerAddress) {
        lookup = loop.nameResolver.resolve(server.host, timeout: configuration.connectTimeout) {
            [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let addresses):
                self.openContext(address: addresses[0], port: server.port)
            case .failure(let error):
                self.lastError = "\(self.endpointDescription): \(error)"
                self.perform(self.machine.failed())
            }
        }
    }

    private func cancelLookup() {
        lookup?.cancel()
        lookup = nil
    }

    private func openContext(address: String, port: Int) {
        guard let context = redisAsyncConnect(address, Int32(port)) else {
            lastError = "cannot allocate a Redis context"
            perform(machine.failed())
            return
        }
        if context.pointee.err != 0 {
            lastError = "\(endpointDescription): \(String(cString: context.pointee.errstr))"
            redisAsyncFree(context)
            perform(machine.failed())
            return
        }
        // hiredis calls back with the context; `data` leads back to self without retaining it.
        // Safe because self frees (or detaches) every context before it goes away.
        context.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        _ = redisLibeventAttach(context, loop.base)
        _ = redisAsyncSetConnectCallback(context, redisConnected)
        _ = redisAsyncSetDisconnectCallback(context, redisDisconnected)
        self.context = context
    }

    private func sendHandshake() {
        guard let context else { return }
        var steps: [RedisCommand] = []
        if let password = configuration.password {
            if let username = configuration.username {
                steps.append(RedisCommand("AUTH", .string(username), .string(password)))
            } else {
                steps.append(RedisCommand("AUTH", .string(password)))
            }
        }
        if configuration.database != 0 { steps.append(RedisCommand("SELECT", .integer(Int64(configuration.database)))) }
        steps.append(RedisCommand("PING"))
        for (index, step) in steps.enumerated() {
            let isLast = index == steps.count - 1
            enqueue(step, on: context, timeout: configuration.connectTimeout) { [unowned self] result in
                switch result {
                case .success where isLast:
                    self.perform(self.machine.handshakeSucceeded())
                case .success:
                    break
                case .failure(let error):
                    self.lastError = "\(self.endpointDescription): \(step.name) failed: \(error)"
                    self.perform(self.machine.failed())
                }
            }
        }
    }

    /// Frees the context and fails every waiting command, in order, with `reason` (or
    /// `.timedOut` for those past their deadline).
    ///
    /// The context is detached first (`data = nil`): called from inside one of hiredis's
    /// callbacks, `redisAsyncFree` only marks the context and frees it after that callback
    /// returns, calling back once per pending command and into the disconnect callback; detached,
    /// those calls find no owner and can never reach this object, even if it is gone by then.
    /// So the completions are failed here, from Swift, instead of through hiredis.
    private func freeContext(failing reason: RedisError) {
        connectedServer = nil
        guard let context else { return }
        self.context = nil
        let waiting = pending
        pending.removeAll()
        context.pointee.data = nil
        redisAsyncFree(context)
        let now = Clocks.monotonicNanoseconds()
        for entry in waiting {
            entry.completion(.failure(entry.deadline <= now ? .timedOut : reason))
        }
    }

    private func enqueue(
        _ command: RedisCommand, on context: UnsafeMutablePointer<redisAsyncContext>, timeout: Duration,
        _ completion: @escaping Completion
    ) {
        // hiredis copies the bytes into its output buffer before returning.
        let status = command.withCommandBytes { redisAsyncFormattedCommand(context, redisReplied, nil, $0, $1) }
        guard status == REDIS_OK else {
            completion(.failure(.unavailable))
            return
        }
        if !flushDue {
            flushDue = true
            flushTimer.fireAfterPendingCallbacks()
        }
        let deadline = Clocks.monotonicNanoseconds() &+ timeout.nanoseconds
        pending.append(Pending(completion: completion, deadline: deadline))
        if armedDeadline.map({ deadline < $0 }) ?? true {
            armedDeadline = deadline
            deadlineTimer.schedule(after: timeout)
        }
    }

    // MARK: - Callbacks from hiredis (on the loop thread)

    fileprivate func connectFinished(_ finished: UnsafePointer<redisAsyncContext>, ok: Bool) {
        guard UnsafePointer(context) == finished else { return }
        if ok {
            perform(machine.connected())
        } else {
            lastError = "\(endpointDescription): \(String(cString: finished.pointee.errstr))"
            // hiredis frees a context whose connect failed once this callback returns.
            context = nil
            connectedServer = nil
            perform(machine.failed())
        }
    }

    fileprivate func disconnected(_ gone: UnsafePointer<redisAsyncContext>) {
        // Ignore the callback of a context we are freeing ourselves.
        guard UnsafePointer(context) == gone else { return }
        if gone.pointee.err != 0 { lastError = "\(endpointDescription): \(String(cString: gone.pointee.errstr))" }
        // hiredis frees the context after this callback.
        context = nil
        connectedServer = nil
        perform(machine.failed())
    }

    fileprivate func received(_ reply: UnsafePointer<redisReply>?) {
        guard let entry = pending.popFirst() else {
            assertionFailure("a Redis reply with no command waiting for it")
            return
        }
        if let reply {
            if reply.pointee.type == REDIS_REPLY_ERROR {
                // The one place an error reply becomes a `RedisError`: its code is parsed here, once.
                let error = RedisError(errorReply: String(cString: reply.pointee.str))
                reportRefusal(error)
                entry.completion(.failure(error))
            } else {
                entry.completion(.success(RedisReply(reply)))
            }
        } else {
            let expired = entry.deadline <= Clocks.monotonicNanoseconds()
            // hiredis frees the context itself after an I/O error: NULL replies, then disconnect.
            entry.completion(.failure(expired ? .timedOut : .disconnected))
        }
    }

    /// A master that answers `READONLY` or `MASTERDOWN` has been demoted: the Sentinel master
    /// resolves again (and drops this connection through `masterChanged`) before the command's
    /// caller hears of it, so a caller answering 503 finds the connection already not ready.
    private func reportRefusal(_ error: RedisError) {
        guard case .sentinelMaster(let master) = endpoint, let server = connectedServer,
            let code = error.serverCode, code == .readOnly || code == .masterDown
        else { return }
        master.serverRefused(server, code: code)
    }

    fileprivate func published(_ reply: UnsafePointer<redisReply>?) {
        // NULL: the context is going away; the disconnect callback follows.
        guard let reply, case .array(let parts) = RedisReply(reply), parts.count == 3, parts[0].string == "message",
            let channel = parts[1].string
        else { return }
        onMessage?(channel, parts[2])
    }

    /// A command past its deadline means the server is hung or the link is dead: the replies
    /// of every later command are stuck behind it, so the whole connection is recycled.
    private func checkDeadlines() {
        armedDeadline = nil
        guard !pending.isEmpty else { return }
        let now = Clocks.monotonicNanoseconds()
        var earliest = UInt64.max
        for entry in pending {
            if entry.deadline <= now {
                lastError = "\(endpointDescription): no reply within \(configuration.commandTimeout)"
                perform(machine.failed())
                return
            }
            earliest = min(earliest, entry.deadline)
        }
        armedDeadline = earliest
        deadlineTimer.schedule(after: .nanoseconds(Int64(earliest - now)))
    }
}

// hiredis's C callbacks. `data` on the context is an unretained pointer to the owning
// RedisConnection (nil once detached in deinit).

private func owner(_ context: UnsafePointer<redisAsyncContext>?) -> RedisConnection? {
    guard let data = context?.pointee.data else { return nil }
    return Unmanaged<RedisConnection>.fromOpaque(data).takeUnretainedValue()
}

private let redisConnected: @convention(c) (UnsafePointer<redisAsyncContext>?, Int32) -> Void = { context, status in
    guard let context else { return }
    owner(context)?.connectFinished(context, ok: status == REDIS_OK)
}

private let redisDisconnected: @convention(c) (UnsafePointer<redisAsyncContext>?, Int32) -> Void = { context, _ in
    guard let context else { return }
    owner(context)?.disconnected(context)
}

private let redisReplied:
    @convention(c) (UnsafeMutablePointer<redisAsyncContext>?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) ->
        Void = {
            context, reply, _ in
            guard let connection = owner(UnsafePointer(context)) else { return }
            // Held for the whole call: a completion may drop the last other reference to it.
            withExtendedLifetime(connection) {
                connection.received(reply.map { UnsafePointer($0.assumingMemoryBound(to: redisReply.self)) })
            }
        }

private let redisPublished:
    @convention(c) (UnsafeMutablePointer<redisAsyncContext>?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) ->
        Void = { context, reply, _ in
            guard let connection = owner(UnsafePointer(context)) else { return }
            withExtendedLifetime(connection) {
                connection.published(reply.map { UnsafePointer($0.assumingMemoryBound(to: redisReply.self)) })
            }
        }

extension Duration {
    /// Whole nanoseconds, clamped at zero.
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}
