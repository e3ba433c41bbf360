#if canImport(Glibc)
    import Glibc
#endif

/// A `HOST:PORT` to listen on or connect to; IPv6 hosts go in brackets (`[::1]:8080`).
package struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; nil with no port, a bad port, or an empty host.
    package init?(_ text: String) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":")
            else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard !hostPart.isEmpty, let port = Int(portPart), (0...65535).contains(port) else { return nil }
        self.init(host: String(hostPart), port: port)
    }

    package var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Why a listening socket could not be opened.
package struct BindError: Error, CustomStringConvertible {
    package let address: ListenAddress
    package let reason: String
    package var description: String { "cannot listen on \(address): \(reason)" }

    package init(address: ListenAddress, reason: String) {
        self.address = address
        self.reason = reason
    }
}

extension ListenAddress {
    /// Resolves the host (numeric or a name such as `localhost`) to a socket address.
    /// Blocking: call at startup, never on a running loop.
    package func resolve() throws(BindError) -> sockaddr_storage {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw BindError(address: self, reason: String(cString: gai_strerror(status)))
        }
        // getaddrinfo allocated the list; it is freed here after copying the first address.
        defer { freeaddrinfo(result) }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { target in
            target.copyMemory(
                from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        }
        return storage
    }
}

extension ListenAddress {
    /// Throws when some socket already listens on this address.
    ///
    /// Services bind with SO_REUSEPORT so that their own loops share the port, which would also
    /// let a second process join the port silently and take half the connections. A socket
    /// bound without SO_REUSEPORT cannot share the port with any listener, so binding one for a
    /// moment tells whether the address is taken. SO_REUSEADDR keeps connections of an earlier
    /// run (TIME_WAIT) from counting. Call once per service, before its own loops bind; a
    /// second process starting in the same instant can still slip past.
    package func ensureNoListener() throws(BindError) {
        guard port != 0 else { return }
        let storage = try resolve()
        let fd = socket(Int32(storage.ss_family), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BindError(address: self, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        guard !bindSocket(fd, to: storage) else { return }
        let reason =
            errno == EADDRINUSE
            ? "another process is already listening there" : String(cString: strerror(errno))
        throw BindError(address: self, reason: reason)
    }
}
