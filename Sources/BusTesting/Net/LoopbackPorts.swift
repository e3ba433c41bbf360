import BusLoop

#if canImport(Glibc)
    import Glibc
#endif

/// Loopback ports for tools and fixtures (`biomebus up` picking ports, tests starting servers
/// on free ones and checking they were freed). Socket addresses come from `BusLoop`.
package enum LoopbackPorts {
    /// True when nothing listens on 127.0.0.1:`port` (see `ListenAddress.ensureNoListener`).
    package static func isFree(_ port: Int) -> Bool {
        (try? ListenAddress(host: "127.0.0.1", port: port).ensureNoListener()) != nil
    }

    /// A port that was free a moment ago: the kernel's pick for a socket bound to port 0, then
    /// released. Another process may take it before the caller binds; fixtures accept that.
    package static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        return bindAnyPort(fd)
    }

    /// A plain listening socket (no SO_REUSEPORT, nobody accepting) on a port the kernel
    /// picks: "another process" holding a port, or a peer that never answers once connected.
    /// The caller closes `fd`.
    package static func listener(backlog: Int32 = 16) -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let port = bindAnyPort(fd)
        listen(fd, backlog)
        return (fd, port)
    }

    /// Binds `fd` to 127.0.0.1 on a port the kernel picks and returns that port.
    private static func bindAnyPort(_ fd: Int32) -> Int {
        _ = bindSocket(fd, to: .loopbackIPv4(port: 0))
        return sockaddr_storage.bound(to: fd)?.port ?? 0
    }

    /// A blocking TCP socket connected to 127.0.0.1:`port`, with receive and send timeouts of
    /// `timeout` seconds; the caller closes it.
    package static func connect(port: Int, timeout: Int) throws(FixtureError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket failed") }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connectSocket(fd, to: .loopbackIPv4(port: port)) else {
            let code = errno
            close(fd)
            throw FixtureError("connect to port \(port) failed: errno \(code)")
        }
        return fd
    }

    /// `preferred` when free, else the first free port after it.
    package static func choose(preferred: Int) -> Int {
        (preferred..<(preferred + 200)).first(where: isFree) ?? preferred
    }
}
