#if canImport(Glibc)
    import Glibc
#endif

// The one place that reinterprets `sockaddr_*` structs: listeners (ListenAddress, HTTPServer)
// and the loopback helpers of tools and tests go through these instead of rebinding pointers
// themselves.

extension sockaddr_storage {
    /// 127.0.0.1:`port` (0: the kernel picks a port at bind time).
    package static func loopbackIPv4(port: Int) -> sockaddr_storage {
        var storage = sockaddr_storage()
        withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                address.pointee.sin_family = sa_family_t(AF_INET)
                address.pointee.sin_addr.s_addr = inet_addr("127.0.0.1")
                address.pointee.sin_port = UInt16(port).bigEndian
            }
        }
        return storage
    }

    /// The port of an IPv4 or IPv6 address in host byte order; 0 for other families.
    package var port: Int {
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

    /// The length the kernel expects for this address's family.
    package var length: socklen_t {
        switch Int32(ss_family) {
        case AF_INET: socklen_t(MemoryLayout<sockaddr_in>.size)
        case AF_INET6: socklen_t(MemoryLayout<sockaddr_in6>.size)
        default: socklen_t(MemoryLayout<sockaddr_storage>.size)
        }
    }

    /// Calls `body` with this address as the `sockaddr` pointer C socket calls take; the
    /// pointer is valid only inside `body`.
    package func withSocketAddress<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        var copy = self
        let length = length
        return withUnsafePointer(to: &copy) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// The local address `fd` is bound to (with the port the kernel picked for port 0), or nil.
    package static func bound(to fd: Int32) -> sockaddr_storage? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return status == 0 ? storage : nil
    }
}

/// Binds `fd` to `address`; the `errno` of a failure is left for the caller.
package func bindSocket(_ fd: Int32, to address: sockaddr_storage) -> Bool {
    address.withSocketAddress { Glibc.bind(fd, $0, $1) } == 0
}

/// Connects `fd` (blocking) to `address`; the `errno` of a failure is left for the caller.
package func connectSocket(_ fd: Int32, to address: sockaddr_storage) -> Bool {
    address.withSocketAddress { Glibc.connect(fd, $0, $1) } == 0
}
