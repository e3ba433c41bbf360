import CLibEvent

#if canImport(Glibc)
    import Glibc
#endif

/// Why a name lookup gave no address.
package enum NameResolutionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No answer within the lookup's timeout (a nameserver that never replies, say).
    case timedOut(host: String, after: Duration)
    /// The resolver answered, without an address: `reason` is its words.
    case failed(host: String, reason: String)

    package var description: String {
        switch self {
        case .timedOut(let host, let after): "lookup of \(host) timed out after \(after)"
        case .failed(let host, let reason): "cannot resolve \(host): \(reason)"
        }
    }
}

/// A lookup in progress; `cancel()` ends it without calling its completion.
///
/// Loop-confined, like everything on a loop. A lookup that has completed (or was cancelled)
/// ignores `cancel()`, so holding on to a finished one is harmless.
package final class NameLookup {
    package typealias Completion = (Result<[String], NameResolutionError>) -> Void

    /// The name being looked up.
    package let host: String
    /// Unowned: a cancelled lookup may outlive its owner until evdns calls back, and must not
    /// keep the loop (whose deinit delivers those last callbacks) alive. Owners hold the loop.
    fileprivate unowned let loop: EventLoop
    /// The resolver whose count of outstanding evdns callbacks includes this lookup, if any.
    fileprivate weak var resolver: NameResolver?
    /// libevent's request, set while evdns may still call back; never touched once the callback
    /// ran (libevent frees the request right after it).
    fileprivate var request: OpaquePointer?
    fileprivate var completion: Completion?
    fileprivate var timer: LoopTimer?

    fileprivate init(host: String, loop: EventLoop, completion: @escaping Completion) {
        self.host = host
        self.loop = loop
        self.completion = completion
    }

    /// True until the completion has run or the lookup was cancelled.
    package var isPending: Bool { completion != nil }

    /// Ends the lookup; its completion will not run. Harmless when already finished.
    package func cancel() {
        loop.assertInLoop()
        guard completion != nil else { return }
        completion = nil
        timer?.cancel()
        timer = nil
        if let request {
            self.request = nil
            // evdns answers a cancel later, from the loop, with EVUTIL_EAI_CANCEL: that call
            // releases the retain taken in `NameResolver.resolve` (see nameResolved).
            evdns_getaddrinfo_cancel(request)
        }
    }

    /// Runs the completion once, whatever finished first (an answer or the timeout).
    fileprivate func finish(_ result: Result<[String], NameResolutionError>) {
        guard let completion else { return }
        self.completion = nil
        timer?.cancel()
        timer = nil
        completion(result)
    }
}

/// Resolves host names to addresses without blocking the loop: libevent's `evdns`, one
/// resolver per event loop (`EventLoop.nameResolver`).
///
/// `getaddrinfo` (which hiredis's and libpq's connects call) blocks its thread for as long as
/// the DNS takes; connection wrappers resolve here first and connect to the address. Like
/// glibc, evdns reads `/etc/hosts` (first) and the nameservers, `search` domains and options of
/// `resolv.conf`, both once, when the loop's first name lookup needs them. Numeric addresses
/// never reach evdns.
package final class NameResolver {
    /// Where the resolver takes its nameservers from.
    package struct Configuration: Sendable, Equatable {
        /// The `resolv.conf` to read (nameservers, `search`, `options ndots/timeout/attempts`).
        package var resolvConfPath: String

        package init(resolvConfPath: String = "/etc/resolv.conf") {
            self.resolvConfPath = resolvConfPath
        }

        /// `/etc/resolv.conf`, or the file named by `BIOMEBUS_RESOLV_CONF` (a resolver of its
        /// own for the process, and how tests point it at a nameserver that never answers).
        package static var fromEnvironment: Configuration {
            if let path = getenv("BIOMEBUS_RESOLV_CONF").map({ String(cString: $0) }), !path.isEmpty {
                return Configuration(resolvConfPath: path)
            }
            return Configuration()
        }
    }

    /// The loop is unowned: it owns this resolver and frees it (`shutDown`) before its base.
    private unowned let loop: EventLoop
    private let configuration: Configuration
    /// The evdns base, made on first use; ours, freed in `shutDown()`.
    private var dnsBase: OpaquePointer?
    /// Why the resolv.conf could not be used, if it could not (lookups then say so).
    private var configurationProblem: String?
    /// evdns callbacks still to come (a retained `NameLookup` each), cancelled lookups included.
    fileprivate var awaitingCallbacks = 0

    init(loop: EventLoop, configuration: Configuration) {
        self.loop = loop
        self.configuration = configuration
    }

    /// True when `host` is an IPv4 or IPv6 address literal (no lookup needed).
    package static func isNumericAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// Resolves `host` to its addresses (IPv4 first, then IPv6, as numeric strings) and calls
    /// `completion` once on this loop, unless the returned lookup is cancelled first.
    ///
    /// The completion may run before `resolve` returns: at once for a numeric address or a
    /// name in `/etc/hosts`. Without an answer within `timeout` the lookup fails with
    /// `.timedOut` and is abandoned.
    @discardableResult
    package func resolve(_ host: String, timeout: Duration, _ completion: @escaping NameLookup.Completion)
        -> NameLookup
    {
        loop.assertInLoop()
        let lookup = NameLookup(host: host, loop: loop, completion: completion)
        if Self.isNumericAddress(host) {
            lookup.finish(.success([host]))
            return lookup
        }
        guard let dnsBase = base() else {
            lookup.finish(.failure(.failed(host: host, reason: configurationProblem ?? "no resolver")))
            return lookup
        }
        lookup.timer = LoopTimer(loop: loop) { [unowned lookup] in
            lookup.cancel(reportingTimeoutAfter: timeout)
        }
        lookup.timer?.schedule(after: timeout)
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        // Retained for libevent, which calls nameResolved exactly once for every request it
        // accepts (with an answer, an error, or EVUTIL_EAI_CANCEL after a cancel); that call
        // releases it. When libevent answers at once (hosts file, an error) it has called back
        // before returning NULL.
        let context = Unmanaged.passRetained(lookup).toOpaque()
        lookup.resolver = self
        awaitingCallbacks += 1
        let request = evdns_getaddrinfo(dnsBase, host, nil, &hints, nameResolved, context)
        if lookup.isPending, let request { lookup.request = request }
        return lookup
    }

    /// The evdns base, made (and `resolv.conf` read) on first use.
    private func base() -> OpaquePointer? {
        if let dnsBase { return dnsBase }
        // Flags 0, then resolv.conf parsed here rather than by EVDNS_BASE_INITIALIZE_NAMESERVERS:
        // that flag makes evdns_base_new fail outright when the file is missing or names no
        // nameserver, where glibc (and this) fall back to 127.0.0.1 and keep /etc/hosts working.
        guard let made = evdns_base_new(loop.base, 0) else {
            configurationProblem = "cannot create a resolver"
            return nil
        }
        // DNS_OPTIONS_ALL (a macro Swift does not import): nameservers, search, misc, hosts file.
        let options = DNS_OPTION_SEARCH | DNS_OPTION_NAMESERVERS | DNS_OPTION_MISC | DNS_OPTION_HOSTSFILE
        let status = evdns_base_resolv_conf_parse(made, options, configuration.resolvConfPath)
        switch status {
        case 0, 1, 6:
            // 1: no such file, 6: no nameserver in it; evdns then asks 127.0.0.1, as glibc does.
            break
        default:
            configurationProblem = "cannot read \(configuration.resolvConfPath) (evdns error \(status))"
        }
        // glibc does not randomize the case of the name it asks for; some resolvers answer such
        // queries with the case folded, which evdns would then reject as a mismatch.
        _ = evdns_base_set_option(made, "randomize-case:", "0")
        dnsBase = made
        return made
    }

    /// Frees the evdns base; the owning loop calls this from its deinit, with its base (no
    /// longer running, and with no events of other owners left: they all hold the loop).
    ///
    /// A lookup cancelled just before the loop stopped still has evdns's `EVUTIL_EAI_CANCEL`
    /// callback queued (deferred on the base); a few non-blocking passes deliver those, so the
    /// retained `NameLookup`s and evdns's request records are freed rather than leaked. Only
    /// then is the evdns base freed: those callbacks still use it.
    func shutDown(base: OpaquePointer) {
        guard let dnsBase else { return }
        var passes = 0
        while awaitingCallbacks > 0 && passes < 8 {
            event_base_loop(base, EVLOOP_NONBLOCK)
            passes += 1
        }
        self.dnsBase = nil
        evdns_base_free(dnsBase, 0)
    }
}

extension NameLookup {
    fileprivate func cancel(reportingTimeoutAfter timeout: Duration) {
        let host = self.host
        guard let completion else { return }
        cancel()
        completion(.failure(.timedOut(host: host, after: timeout)))
    }
}

/// evdns's callback: `arg` is the `NameLookup` retained in `resolve`, released here (libevent
/// calls back exactly once per request). `result` is ours to free with `evutil_freeaddrinfo`.
private let nameResolved: @convention(c) (Int32, UnsafeMutablePointer<addrinfo>?, UnsafeMutableRawPointer?) -> Void = {
    status, result, arg in
    defer { if let result { evutil_freeaddrinfo(result) } }
    guard let arg else { return }
    let lookup = Unmanaged<NameLookup>.fromOpaque(arg).takeRetainedValue()
    lookup.request = nil
    lookup.resolver?.awaitingCallbacks -= 1
    lookup.resolver = nil
    guard lookup.isPending else { return }
    if status != 0 {
        lookup.finish(.failure(.failed(host: lookup.host, reason: String(cString: evutil_gai_strerror(status)))))
        return
    }
    var addresses: [String] = []
    var node = result
    while let current = node {
        if let text = numericAddress(current.pointee.ai_addr), !addresses.contains(text) { addresses.append(text) }
        node = current.pointee.ai_next
    }
    // evdns lists IPv4 answers before IPv6 ones; keep that order, IPv4 first.
    let ordered = addresses.filter { !$0.contains(":") } + addresses.filter { $0.contains(":") }
    if ordered.isEmpty {
        lookup.finish(.failure(.failed(host: lookup.host, reason: "no address")))
    } else {
        lookup.finish(.success(ordered))
    }
}

/// The address of an IPv4 or IPv6 socket address as text.
private func numericAddress(_ address: UnsafeMutablePointer<sockaddr>?) -> String? {
    guard let address else { return nil }
    var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
    switch Int32(address.pointee.sa_family) {
    case AF_INET:
        return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
            var raw = v4.pointee.sin_addr
            return inet_ntop(AF_INET, &raw, &buffer, socklen_t(buffer.count)).map { String(cString: $0) }
        }
    case AF_INET6:
        return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
            var raw = v6.pointee.sin6_addr
            return inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count)).map { String(cString: $0) }
        }
    default:
        return nil
    }
}
