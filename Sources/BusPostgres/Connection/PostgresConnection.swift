@_spi(LoopInternals) import BusLoop
import CLibEvent
import CLibPQ
import DequeModule

#if canImport(Glibc)
    import Glibc
#endif

/// One libpq connection driven by an event loop, never blocking the loop's thread: the connect
/// is `PQconnectStart`/`PQconnectPoll` on socket events, queries are sent with
/// `PQsendQueryParams` (or prepared once per session with `PQsendPrepare` and then run with
/// `PQsendQueryPrepared`) on a non-blocking socket, and results are read as they arrive.
///
/// One query at a time: libpq outside pipeline mode allows one in flight, and a second query
/// while one runs fails with `.unavailable`. With `configuration.pipelineDepth` above 1 the
/// connection runs in libpq pipeline mode instead: up to that many statements in flight, each
/// sent with its own Sync (so each is its own implicit transaction, and one failing does not
/// abort the others), answers read in order. Parameters and results use Postgres's text format.
/// Every query has a timeout; on expiry the connection is closed (ending the query's session)
/// and reopened, because libpq's cancel request blocks. It reconnects by itself, with capped
/// exponential backoff, until `close()`.
///
/// Use it only on its loop's thread. Completions run on that thread, possibly synchronously
/// inside `query` when the connection is not ready. Call `close()` before dropping it.
package final class PostgresConnection {
    package typealias Completion = (Result<PostgresResult, PostgresError>) -> Void

    /// A change of the connection's link, for its owner (the pool).
    package enum LinkEvent: Sendable, Equatable {
        /// Connected; queries are accepted.
        case up
        /// A working link was lost (I/O error, server gone, query timeout); reconnecting at once.
        case reconnecting
        /// A connect attempt failed (`lastError` says why); retrying after the backoff.
        case connectFailed
        /// `close()` was called.
        case closed
    }

    private enum Phase {
        /// `PQsendPrepare` is in flight for a named statement this session has not seen.
        case preparing(name: String)
        case executing
    }

    /// A class, not a struct: the connection reads and updates the query in flight several
    /// times per statement, and each optional-chained access of a struct this size copied it
    /// (retaining its strings, parameters and completion; ~3k instructions per statement).
    private final class InFlight {
        let sql: String
        /// Monotonic nanoseconds after which the query fails with `.timedOut`.
        let deadline: UInt64
        let parameters: [String?]
        let statementName: String?
        let completion: Completion
        var phase: Phase
        var result: PostgresResult?
        var error: PostgresError?
        /// Pipeline mode: statements (`PQsendPrepare`, then the query) whose results ended
        /// (`PQgetResult` returned NULL) so far; the Sync's result follows the last.
        var statementsEnded = 0

        init(
            sql: String, deadline: UInt64, parameters: [String?], statementName: String?,
            completion: @escaping Completion, phase: Phase
        ) {
            self.sql = sql
            self.deadline = deadline
            self.parameters = parameters
            self.statementName = statementName
            self.completion = completion
            self.phase = phase
        }
    }

    package let loop: EventLoop
    package let configuration: PostgresConfiguration

    /// Called on the loop when the link changes; the pool tracks health with it.
    package var onLinkEvent: ((LinkEvent) -> Void)?
    /// Called on the loop with each server notice or warning (`NOTICE: …`), without its trailing
    /// newline. Without a handler notices are dropped (libpq would print them to stderr).
    package var onNotice: ((String) -> Void)?

    /// The most recent connection error, for readiness reports and logs. Passwords of the
    /// connection string never appear in it (libpq quotes the string when it does not parse).
    package private(set) var lastError: String? {
        didSet {
            if let lastError { self.lastError = PostgresURLRedaction.redacting(lastError, of: configuration.url) }
        }
    }
    /// Counts successful connects. A session-scoped fact (an open transaction, a prepared
    /// statement, a `SET`) holds only while this stays the same.
    package private(set) var generation = 0

    private lazy var machine = PostgresConnectionStateMachine(pipelineDepth: configuration.pipelineDepth)
    /// The libpq connection, nil while disconnected. Ours: freed with `PQfinish` in
    /// `closeLink()`, always before self goes away.
    private var pgConnection: OpaquePointer?
    /// libevent events on the libpq socket; freed before the socket is closed.
    private var readEvent: OpaquePointer?
    private var writeEvent: OpaquePointer?
    /// True while `PQflush` has reported unsent data.
    private var isFlushing = false
    private var inFlight: InFlight?
    /// Pipeline mode's queries in flight, oldest first (answers arrive in this order).
    private var pipelined = Deque<InFlight>()
    private var isPipelining: Bool { configuration.pipelineDepth > 1 }
    /// True while `readPipelinedResults` runs (it may be re-entered from a completion).
    private var isReadingResults = false
    /// The deadline the query timer is armed for; nil when it is not armed.
    private var armedQueryDeadline: UInt64?
    /// The column names of the latest result, for the next result with the same ones.
    private var lastColumns: PostgresColumnIndex?
    /// Statement name to SQL for the statements prepared on the current session.
    private var prepared: [String: String] = [:]
    /// Backoff jitter; its own state, not the zero-size system generator (see `JitterRandom`).
    private var random = JitterRandom()
    /// Host name lookups of the current connect attempt (finished ones are harmless here).
    private var lookups: [NameLookup] = []
    /// The host lists libpq was started with for the current attempt, to move on to the next
    /// host when one does not answer; nil for a single host or none.
    private var attemptHosts: PostgresHostPlan.Lists?

    private lazy var connectTimer = LoopTimer(loop: loop) { [unowned self] in
        if self.tryNextHost() { return }
        let pending = self.lookups.filter(\.isPending).map(\.host)
        let resolving = pending.isEmpty ? "" : " resolving \(pending.joined(separator: ", "))"
        self.lastError = "connect timed out after \(self.configuration.connectTimeout)\(resolving)"
        self.perform(self.machine.connectFailed())
    }
    private lazy var queryTimer = LoopTimer(loop: loop) { [unowned self] in
        let now = Clocks.monotonicNanoseconds()
        if self.isPipelining {
            // Armed for the earliest deadline; a later query that finished meanwhile may have
            // moved it.
            if let next = self.earliestDeadline, next > now {
                self.armQueryTimer()
                return
            }
        } else {
            // Armed lazily (see `query`): the statement it was armed for may have completed,
            // and the one in flight now, if any, may have a later deadline.
            self.armedQueryDeadline = nil
            guard let current = self.inFlight else { return }
            if current.deadline > now {
                self.armQueryTimer(for: current.deadline)
                return
            }
        }
        self.perform(self.machine.queryTimedOut())
    }
    private lazy var reconnectTimer = LoopTimer(loop: loop) { [unowned self] in
        self.perform(self.machine.reconnectTimerFired())
    }

    /// The `options` startup parameter (server timeouts plus the URL's own options), worked
    /// out once: parsing the URL does no I/O.
    private lazy var startupOptions: String? = configuration.startupOptions(
        urlOptions: Self.connectionOption("options", in: configuration.url))

    package init(loop: EventLoop, configuration: PostgresConfiguration) {
        self.loop = loop
        self.configuration = configuration
    }

    deinit {
        assert(pgConnection == nil, "PostgresConnection dropped without close()")
        closeLink()
    }

    /// True while connected with nothing in flight.
    package var isReady: Bool { machine.isReady }

    /// True while a query would be sent at once: connected, and fewer than
    /// `configuration.pipelineDepth` in flight.
    package var hasCapacity: Bool { machine.hasCapacity }

    /// Queries sent and not answered yet.
    package var queriesInFlight: Int { machine.inFlight }

    /// The state, for diagnostics.
    package var state: PostgresConnectionStateMachine.State { machine.state }

    /// True when the session is inside a transaction block (`BEGIN` without `COMMIT`/`ROLLBACK`
    /// yet, or a failed one).
    package var isInTransaction: Bool {
        guard machine.isConnected, let pgConnection else { return false }
        let status = PQtransactionStatus(pgConnection)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// Starts connecting; reconnects by itself until `close()`.
    package func start() {
        loop.assertInLoop()
        perform(machine.start())
    }

    /// Runs one statement; `completion` gets its result or why there is none.
    ///
    /// - Parameters:
    ///   - parameters: `$1`, `$2`, … in Postgres text format; nil is NULL.
    ///   - statementName: when set, the statement is prepared under this name once per session
    ///     (`PQsendPrepare`) and run with `PQsendQueryPrepared` from then on. Use one name per SQL
    ///     text; a name reused with other SQL runs that SQL unnamed. Not for servers behind a
    ///     transaction-pooling pgbouncer older than 1.21 (see docs/postgres-client.md).
    ///   - timeout: how long the statement may take; `configuration.queryTimeout` when nil.
    package func query(
        _ sql: String, _ parameters: [String?] = [], statementName: String? = nil, timeout: Duration? = nil,
        _ completion: @escaping Completion
    ) {
        loop.assertInLoop()
        switch machine.queryRequested() {
        case .sendQuery:
            var phase = Phase.executing
            var name = statementName
            if let statementName {
                switch prepared[statementName] {
                case nil: phase = .preparing(name: statementName)
                case sql: break
                default: name = nil
                }
            }
            let limit = timeout ?? configuration.queryTimeout
            let query = InFlight(
                sql: sql, deadline: Clocks.monotonicNanoseconds() &+ limit.nanoseconds, parameters: parameters,
                statementName: name, completion: completion, phase: phase)
            if isPipelining {
                sendPipelined(query)
            } else {
                inFlight = query
                // The timer stays armed from one statement to the next and is re-armed only for
                // an earlier deadline: arming and cancelling it per statement cost ~1k
                // instructions. When it fires for a statement that completed, it re-arms for
                // the one then in flight.
                if armedQueryDeadline.map({ query.deadline < $0 }) ?? true { armQueryTimer(for: query.deadline) }
                sendCurrentPhase()
            }
        case .rejectQuery(let error):
            completion(.failure(error))
        default:
            assertionFailure("unexpected action for a query request")
            completion(.failure(.unavailable))
        }
    }

    /// When the connection is waiting out its reconnect backoff, connects now instead; returns
    /// whether it did.
    @discardableResult
    package func reconnectNow() -> Bool {
        loop.assertInLoop()
        guard case .waitingToReconnect = machine.state else { return false }
        reconnectTimer.cancel()
        perform(machine.reconnectTimerFired())
        return true
    }

    /// Closes the connection for good; a query in flight fails with `.unavailable`.
    package func close() {
        loop.assertInLoop()
        perform(machine.close())
    }

    // MARK: - Acting on the state machine

    private func perform(_ action: PostgresConnectionStateMachine.Action) {
        switch action {
        case .none, .sendQuery, .rejectQuery:
            // Query requests are answered inline by `query`.
            break
        case .connect:
            connectTimer.schedule(after: configuration.connectTimeout)
            openLink()
        case .becameReady:
            connectTimer.cancel()
            if isPipelining, let pgConnection, PQenterPipelineMode(pgConnection) != 1 {
                lastError = "cannot enter pipeline mode: \(Self.message(of: pgConnection))"
                perform(machine.connectionLost())
                return
            }
            lastError = nil
            generation += 1
            prepared.removeAll()
            onLinkEvent?(.up)
        case .completeQuery:
            let finished: InFlight
            if isPipelining {
                guard let oldest = pipelined.popFirst() else { return }
                finished = oldest
                armQueryTimer()
            } else {
                guard let current = inFlight else { return }
                finished = current
                inFlight = nil
            }
            if let error = finished.error {
                finished.completion(.failure(error))
            } else {
                finished.completion(.success(finished.result ?? PostgresResult(columns: [], rows: [])))
            }
        case .reconnect(let attempt, let wasReady, let failing):
            connectTimer.cancel()
            queryTimer.cancel()
            armedQueryDeadline = nil
            closeLink()
            reconnectTimer.schedule(after: configuration.reconnectBackoff.delay(attempt: attempt, using: &random))
            // The owner hears of the lost link before the query's caller, so a pool never hands
            // this connection to someone else as if it were still up.
            onLinkEvent?(wasReady ? .reconnecting : .connectFailed)
            failInFlight(with: failing ?? .connectionLost)
        case .tearDown(let failing):
            connectTimer.cancel()
            queryTimer.cancel()
            armedQueryDeadline = nil
            reconnectTimer.cancel()
            closeLink()
            onLinkEvent?(.closed)
            failInFlight(with: failing ?? .unavailable)
        }
    }

    /// Fails every query in flight. After a timeout only the queries past their deadline get
    /// `.timedOut`; the others lost their session with it.
    private func failInFlight(with error: PostgresError) {
        if let failed = inFlight {
            inFlight = nil
            failed.completion(.failure(error))
        }
        guard !pipelined.isEmpty else { return }
        let failed = pipelined
        pipelined.removeAll()
        let now = Clocks.monotonicNanoseconds()
        for query in failed {
            query.completion(.failure(error == .timedOut && query.deadline > now ? .connectionLost : error))
        }
    }

    // MARK: - Connecting

    /// Resolves the connection string's host names on the loop's resolver, then starts libpq
    /// with their addresses as `hostaddr` (see `PostgresHostPlan`). The lookups count against
    /// the connect timeout, which is already running; one that never answers ends as a failed
    /// connect, retried after the backoff.
    private func openLink() {
        lookups.removeAll()
        let urlHosts = self.urlHosts()
        guard
            let plan = urlHosts.flatMap({ PostgresHostPlan(host: $0.host, hostaddr: $0.hostaddr, port: $0.port) })
        else {
            startLibpq(hosts: nil)
            attemptHosts = urlHosts.flatMap { hosts in hosts.host.map { ($0, hosts.hostaddr ?? "", hosts.port) } }
            return
        }
        // Shared by the completions below; each runs once, on this loop.
        var resolved: [String: [String]] = [:]
        var failures: [String] = []
        var remaining = plan.names.count
        for name in plan.names {
            let lookup = loop.nameResolver.resolve(name, timeout: configuration.connectTimeout) {
                [weak self] result in
                switch result {
                case .success(let addresses): resolved[name] = addresses
                case .failure(let error): failures.append(error.description)
                }
                remaining -= 1
                guard remaining == 0, let self else { return }
                if let hosts = plan.parameters(resolved: resolved) {
                    self.startLibpq(hosts: hosts)
                } else {
                    self.lastError = failures.joined(separator: "; ")
                    self.perform(self.machine.connectFailed())
                }
            }
            lookups.append(lookup)
        }
    }

    /// The connection string's host, hostaddr and port lists, nil when it does not parse
    /// (libpq then reports that itself). A string without a host uses `PGHOST`.
    private func urlHosts() -> (host: String?, hostaddr: String?, port: String?)? {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(configuration.url, &error) else {
            if let error { PQfreemem(error) }
            return nil
        }
        // The option array is ours until PQconninfoFree.
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { values[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        let environment = { (name: String) in getenv(name).map { String(cString: $0) } }
        return (
            values["host"] ?? environment("PGHOST"), values["hostaddr"] ?? environment("PGHOSTADDR"),
            values["port"] ?? environment("PGPORT")
        )
    }

    /// When the connect timer fires while libpq is trying one host of several, starts over with
    /// the hosts after it (each gets its own connect timeout, as libpq's `connect_timeout`
    /// would in blocking mode). False when there is no further host.
    private func tryNextHost() -> Bool {
        guard let pgConnection, let lists = attemptHosts, let host = PQhost(pgConnection).map({ String(cString: $0) }),
            let next = PostgresHostPlan.remaining(
                lists, after: host, hostaddr: PQhostaddr(pgConnection).map { String(cString: $0) },
                port: PQport(pgConnection).map { String(cString: $0) })
        else { return false }
        lastError = "connect to \(host) timed out after \(configuration.connectTimeout); trying the next host"
        closeLink()
        connectTimer.schedule(after: configuration.connectTimeout)
        startLibpq(hosts: next)
        return true
    }

    private func cancelLookups() {
        for lookup in lookups { lookup.cancel() }
        lookups.removeAll()
    }

    private func startLibpq(hosts: PostgresHostPlan.Lists?) {
        attemptHosts = hosts
        var keywords = ["fallback_application_name", "dbname"]
        var values: [String?] = [configuration.applicationName, configuration.url]
        // After dbname, so it replaces the URL's own `options`, which it already contains.
        if let startupOptions {
            keywords.append("options")
            values.append(startupOptions)
        }
        if let hosts {
            keywords += ["host", "hostaddr", "port"]
            values += [hosts.host, hosts.hostaddr, hosts.port]
        }
        // expand_dbname = 1: the URL in `dbname` is parsed as a full connection string, and its
        // settings override the ones before it (so the URL's application_name wins); libpq
        // processes the keywords in order, so the ones after dbname override the URL's (the
        // resolved host lists too; a NULL value overrides nothing).
        let started = withCStringArray(keywords) { keywords in
            withCStringArray(values) { values in PQconnectStartParams(keywords, values, 1) }
        }
        guard let started else {
            lastError = "cannot allocate a libpq connection"
            perform(machine.connectFailed())
            return
        }
        pgConnection = started
        if PQstatus(started) == CONNECTION_BAD {
            lastError = Self.message(of: started)
            perform(machine.connectFailed())
            return
        }
        // The processor's argument is an unretained self: the PGconn is finished in closeLink()
        // before self goes away, so libpq never calls back into a released connection.
        PQsetNoticeProcessor(started, postgresNoticeReceived, Unmanaged.passUnretained(self).toOpaque())
        // After PQconnectStart libpq behaves as if PQconnectPoll had answered "writing".
        advanceConnect(PGRES_POLLING_WRITING)
    }

    /// Waits for the socket as `PQconnectPoll` asked, or finishes the connect.
    private func advanceConnect(_ polling: PostgresPollingStatusType) {
        guard let pgConnection else { return }
        switch polling {
        case PGRES_POLLING_OK:
            finishConnect(pgConnection)
        case PGRES_POLLING_READING, PGRES_POLLING_WRITING:
            // libpq may switch sockets between polls (another host or address, a retry without
            // TLS), so each step gets a fresh one-shot event on the current socket.
            let flags = polling == PGRES_POLLING_READING ? EV_READ : EV_WRITE
            replaceEvents(read: makeEvent(PQsocket(pgConnection), flags: Int16(flags)), write: nil)
            event_add(readEvent, nil)
        default:
            lastError = Self.message(of: pgConnection)
            perform(machine.connectFailed())
        }
    }

    private func finishConnect(_ pgConnection: OpaquePointer) {
        guard PQsetnonblocking(pgConnection, 1) == 0 else {
            lastError = "cannot make the connection non-blocking: \(Self.message(of: pgConnection))"
            perform(machine.connectFailed())
            return
        }
        // From here on the socket stays the same: a persistent read event notices replies and
        // a server that goes away while idle; the write event is armed only while PQflush has
        // unsent data.
        let socket = PQsocket(pgConnection)
        replaceEvents(
            read: makeEvent(socket, flags: Int16(EV_READ | EV_PERSIST)),
            write: makeEvent(socket, flags: Int16(EV_WRITE)))
        event_add(readEvent, nil)
        perform(machine.connectSucceeded())
    }

    private func makeEvent(_ socket: Int32, flags: Int16) -> OpaquePointer? {
        // The argument is an unretained self: replaceEvents/closeLink free every event before
        // self goes away, so libevent never calls back into a released connection.
        event_new(loop.base, socket, flags, postgresSocketReady, Unmanaged.passUnretained(self).toOpaque())
    }

    private func replaceEvents(read: OpaquePointer?, write: OpaquePointer?) {
        if let readEvent { event_free(readEvent) }
        if let writeEvent { event_free(writeEvent) }
        readEvent = read
        writeEvent = write
    }

    /// Cancels lookups, frees the events, then the libpq connection (which closes the socket).
    private func closeLink() {
        cancelLookups()
        replaceEvents(read: nil, write: nil)
        isFlushing = false
        guard let pgConnection else { return }
        self.pgConnection = nil
        PQfinish(pgConnection)
    }

    // MARK: - Sending

    private func sendCurrentPhase() {
        guard let pgConnection, let current = inFlight else { return }
        let sent: Bool
        switch current.phase {
        case .preparing(let name):
            sent = PQsendPrepare(pgConnection, name, current.sql, Int32(current.parameters.count), nil) == 1
        case .executing:
            sent = withCStringArray(current.parameters) { values in
                if let name = current.statementName {
                    PQsendQueryPrepared(pgConnection, name, Int32(current.parameters.count), values, nil, nil, 0) == 1
                } else {
                    PQsendQueryParams(
                        pgConnection, current.sql, Int32(current.parameters.count), nil, values, nil, nil, 0) == 1
                }
            }
        }
        guard sent else {
            // libpq refused before sending: a broken link, or a request it rejects itself (more
            // than 65535 parameters, say), which leaves the connection usable.
            if PQstatus(pgConnection) == CONNECTION_BAD {
                linkBroke()
            } else {
                inFlight?.error = .server(sqlState: "", message: Self.message(of: pgConnection))
                perform(machine.queryFinished())
            }
            return
        }
        flush()
    }

    private func flush() {
        guard let pgConnection else { return }
        switch PQflush(pgConnection) {
        case 0:
            isFlushing = false
        case 1:
            isFlushing = true
            event_add(writeEvent, nil)
        default:
            linkBroke()
            return
        }
        // A flush that cannot send everything reads the socket into libpq's buffer (so that a
        // server blocked on writing to us does not deadlock). In pipeline mode those bytes may
        // be answers to earlier statements, and the socket will not be readable for them again.
        if isPipelining { readPipelinedResults() }
    }

    // MARK: - Receiving

    fileprivate func socketReady(_ what: Int16) {
        loop.assertInLoop()
        guard let pgConnection else { return }
        if case .connecting = machine.state {
            advanceConnect(PQconnectPoll(pgConnection))
            return
        }
        if what & Int16(EV_WRITE) != 0 { flush() }
        guard what & Int16(EV_READ) != 0, self.pgConnection != nil else { return }
        guard PQconsumeInput(pgConnection) == 1 else {
            linkBroke()
            return
        }
        // The server may be waiting for us to read before it reads the rest of our query.
        if isFlushing { flush() }
        if isPipelining { readPipelinedResults() } else { readResults() }
        discardNotifications()
        if let current = self.pgConnection, PQstatus(current) == CONNECTION_BAD { linkBroke() }
    }

    /// Takes every result libpq has complete, without blocking, until `PQgetResult` says the
    /// query is done (NULL).
    private func readResults() {
        while inFlight != nil, let pgConnection, PQisBusy(pgConnection) == 0 {
            guard let result = PQgetResult(pgConnection) else {
                queryDone(pgConnection)
                continue
            }
            let status = PQresultStatus(result)
            switch status {
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                if let current = inFlight, case .executing = current.phase {
                    current.result = copyResult(result)
                }
                PQclear(result)
            case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
                // The first error is the one that matters; libpq may add "server closed the
                // connection" after it.
                let error = PostgresError(failed: result)
                if inFlight?.error == nil { inFlight?.error = error }
                PQclear(result)
                if error.endsSession {
                    sessionEnded(by: error)
                    return
                }
            default:
                // COPY and single-row mode are not used by this client; a statement that starts
                // a COPY leaves the session in a state only a new connection clears.
                PQclear(result)
                lastError = "unsupported result status \(String(cString: PQresStatus(status)))"
                linkBroke()
                return
            }
        }
    }

    private func copyResult(_ result: OpaquePointer) -> PostgresResult {
        let copied = PostgresResult(copying: result, columnsLike: lastColumns)
        lastColumns = copied.columnIndex
        return copied
    }

    /// `PQgetResult` returned NULL: the current phase is complete.
    private func queryDone(_ pgConnection: OpaquePointer) {
        guard let current = inFlight else { return }
        if PQstatus(pgConnection) == CONNECTION_BAD {
            linkBroke()
            return
        }
        if case .preparing(let name) = current.phase, current.error == nil {
            prepared[name] = current.sql
            current.phase = .executing
            sendCurrentPhase()
            return
        }
        perform(machine.queryFinished())
    }

    // MARK: - Pipeline mode

    /// Queues the query's statements (a `PQsendPrepare` first for a name this session has not
    /// prepared) and a Sync of its own, then flushes.
    private func sendPipelined(_ query: InFlight) {
        guard let pgConnection else {
            // Not expected while connected; counted in flight, so fail it through the machine.
            pipelined.append(query)
            perform(machine.connectionLost())
            return
        }
        var sent = true
        if case .preparing(let name) = query.phase {
            sent = PQsendPrepare(pgConnection, name, query.sql, Int32(query.parameters.count), nil) == 1
            // Counted as prepared from now on, so the queries behind it do not prepare it again;
            // forgotten if the server refuses it.
            if sent { prepared[name] = query.sql }
        }
        if sent {
            let count = Int32(query.parameters.count)
            sent = withCStringArray(query.parameters) { values in
                if case .preparing(let name) = query.phase {
                    PQsendQueryPrepared(pgConnection, name, count, values, nil, nil, 0) == 1
                } else if let name = query.statementName {
                    PQsendQueryPrepared(pgConnection, name, count, values, nil, nil, 0) == 1
                } else {
                    PQsendQueryParams(pgConnection, query.sql, count, nil, values, nil, nil, 0) == 1
                }
            }
        }
        // PQpipelineSync flushes what it can without blocking; flush() below arms the write
        // event for the rest.
        if sent { sent = PQpipelineSync(pgConnection) == 1 }
        guard sent else {
            // A refusal before anything reached the server: without a Sync queued, the pipeline
            // cannot be trusted to stay in step with the queries, so the session is dropped
            // (every query in flight fails with .connectionLost, this one included).
            lastError = Self.message(of: pgConnection)
            pipelined.append(query)
            perform(machine.connectionLost())
            return
        }
        pipelined.append(query)
        if armedQueryDeadline.map({ query.deadline < $0 }) ?? true { armQueryTimer() }
        flush()
    }

    private var earliestDeadline: UInt64? { pipelined.lazy.map(\.deadline).min() }

    /// Arms the query timer for the earliest deadline in flight, or cancels it when none is.
    private func armQueryTimer() {
        guard let deadline = earliestDeadline else {
            armedQueryDeadline = nil
            queryTimer.cancel()
            return
        }
        armQueryTimer(for: deadline)
    }

    /// Arms the query timer for `deadline` (monotonic nanoseconds), replacing any other.
    private func armQueryTimer(for deadline: UInt64) {
        armedQueryDeadline = deadline
        let now = Clocks.monotonicNanoseconds()
        queryTimer.schedule(after: .nanoseconds(Int64(deadline > now ? deadline - now : 0)))
    }

    /// Takes every result libpq has complete, without blocking. For each query in flight the
    /// results come in order: the `PQsendPrepare`'s (when it prepared), a NULL, the query's, a
    /// NULL, then `PGRES_PIPELINE_SYNC`, which completes it.
    private func readPipelinedResults() {
        // A completion that sends the next statement flushes, which reads results again: the
        // loop already running here takes them.
        guard !isReadingResults else { return }
        isReadingResults = true
        defer { isReadingResults = false }
        // Two NULLs in a row mean libpq has nothing queued: stop rather than spin.
        var lastWasNull = false
        while !pipelined.isEmpty, let pgConnection, PQisBusy(pgConnection) == 0 {
            guard let result = PQgetResult(pgConnection) else {
                if lastWasNull || PQstatus(pgConnection) == CONNECTION_BAD { break }
                lastWasNull = true
                pipelined[0].statementsEnded += 1
                continue
            }
            lastWasNull = false
            let status = PQresultStatus(result)
            switch status {
            case PGRES_PIPELINE_SYNC:
                PQclear(result)
                perform(machine.queryFinished())
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                let isPrepare: Bool
                if case .preparing = pipelined[0].phase {
                    isPrepare = pipelined[0].statementsEnded == 0
                } else {
                    isPrepare = false
                }
                if !isPrepare { pipelined[0].result = copyResult(result) }
                PQclear(result)
            case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
                let error = PostgresError(failed: result)
                if pipelined[0].error == nil { pipelined[0].error = error }
                if case .preparing(let name) = pipelined[0].phase, pipelined[0].statementsEnded == 0 {
                    prepared.removeValue(forKey: name)
                }
                PQclear(result)
                if error.endsSession {
                    sessionEnded(by: error)
                    return
                }
            case PGRES_PIPELINE_ABORTED:
                // A statement after a failed one up to the Sync: the failure is already recorded.
                PQclear(result)
            default:
                PQclear(result)
                lastError = "unsupported result status \(String(cString: PQresStatus(status)))"
                linkBroke()
                return
            }
        }
    }

    /// This client does not LISTEN, but a NOTIFY sent to the session must not pile up.
    private func discardNotifications() {
        guard let pgConnection else { return }
        while let notification = PQnotifies(pgConnection) { PQfreemem(notification) }
    }

    /// The server said it is ending the session (shutting down, crashed). The link is broken
    /// now rather than when libpq reads the EOF that follows, so the pool reports not healthy
    /// by the time the statement's caller hears of it: a service that answers 503 for it must
    /// not still say "ready" (the statement fails with `.connectionLost`, as if the EOF had
    /// come first).
    private func sessionEnded(by error: PostgresError) {
        lastError = error.description
        perform(machine.connectionLost())
    }

    /// The link is unusable: record why and let the state machine decide what follows.
    private func linkBroke() {
        if let pgConnection { lastError = Self.message(of: pgConnection) }
        perform(machine.connectionLost())
    }

    fileprivate func noticeReceived(_ message: String) {
        onNotice?(message.trimmingTrailingNewlines)
    }

    /// The value of `keyword` in a connection URI or key=value string, as libpq parses it
    /// (`PQconninfoParse`: no I/O). Nil when unset or when the string does not parse.
    static func connectionOption(_ keyword: String, in conninfo: String) -> String? {
        // Both allocated by libpq and freed here: the options array with PQconninfoFree, the
        // error message with PQfreemem.
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            if let errorMessage { PQfreemem(errorMessage) }
            return nil
        }
        defer { PQconninfoFree(options) }
        var option = options
        while let name = option.pointee.keyword {
            if String(cString: name) == keyword { return option.pointee.val.map { String(cString: $0) } }
            option += 1
        }
        return nil
    }

    private static func message(of pgConnection: OpaquePointer) -> String {
        String(cString: PQerrorMessage(pgConnection)).trimmingTrailingNewlines
    }
}

/// Calls `body` with an array of C strings (NULL for nil, and a NULL after the last) that lives
/// for the call only; libpq copies what it keeps. The strings are copied, NUL-terminated, into
/// one temporary buffer (on the stack when small): a `strdup` per parameter and the arrays
/// around them were ~6k instructions per statement (bench/instructions). A string with an
/// embedded NUL ends there, as a C string would.
private func withCStringArray<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    var total = 0
    for case let string? in strings { total += string.utf8.count + 1 }
    // Both buffers are ours for this call only.
    return withUnsafeTemporaryAllocation(byteCount: max(total, 1), alignment: 1) { text in
        withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: strings.count + 1) { pointers in
            var offset = 0
            for index in strings.indices {
                guard let string = strings[index] else {
                    pointers.initializeElement(at: index, to: nil)
                    continue
                }
                // withCString is free for a native String (its storage is NUL-terminated).
                let count = string.utf8.count
                string.withCString { source in
                    (text.baseAddress! + offset).copyMemory(from: source, byteCount: count)
                }
                text[offset + count] = 0
                pointers.initializeElement(
                    at: index,
                    to: UnsafePointer(text.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self)))
                offset += count + 1
            }
            pointers.initializeElement(at: strings.count, to: nil)
            defer { pointers.deinitialize() }
            return body(UnsafePointer(pointers.baseAddress!))
        }
    }
}

// libevent's and libpq's C callbacks. Their argument is an unretained pointer to the owning
// PostgresConnection, which frees the events and the PGconn before it goes away.

private let postgresSocketReady: @convention(c) (Int32, Int16, UnsafeMutableRawPointer?) -> Void = { _, what, arg in
    guard let arg else { return }
    // Held for the whole call: a completion run from socketReady may drop the pool's reference.
    let connection = Unmanaged<PostgresConnection>.fromOpaque(arg).takeUnretainedValue()
    withExtendedLifetime(connection) { connection.socketReady(what) }
}

private let postgresNoticeReceived: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Void = {
    arg, message in
    guard let arg, let message else { return }
    Unmanaged<PostgresConnection>.fromOpaque(arg).takeUnretainedValue().noticeReceived(String(cString: message))
}
