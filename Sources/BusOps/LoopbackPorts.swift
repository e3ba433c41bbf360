#if canImport(Glibc)
    import Glibc
#endif

/// Loopback port checks for tools (`biomebus up` picking ports, tests checking they were freed).
public enum LoopbackPorts {
    /// True when nothing listens on 127.0.0.1:`port`. SO_REUSEADDR ignores TIME_WAIT leftovers
    /// of closed connections but still fails while anything listens.
    public static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// `preferred` when free, else the first free port after it.
    public static func choose(preferred: Int) -> Int {
        (preferred..<(preferred + 200)).first(where: isFree) ?? preferred
    }
}
