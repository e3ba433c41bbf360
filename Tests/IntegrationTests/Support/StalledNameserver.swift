import BusTesting
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A UDP "nameserver" on a free loopback port that receives queries and never answers, and a
/// resolv.conf naming it: a resolver pointed at it hangs until its own timeout.
final class StalledNameserver: @unchecked Sendable {
    // @unchecked Sendable: `received` is behind a lock; the socket is only read under the lock.
    let port: Int
    let resolvConf: URL
    private let fd: Int32
    private let directory: URL
    private let lock = NSLock()
    private var received = 0

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.fd = fd
        guard fd >= 0 else { throw FixtureError("cannot open a UDP socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw FixtureError("cannot bind a UDP socket")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        directory = try ProcessTools.makeTemporaryDirectory(prefix: "biomebus-dns")
        resolvConf = directory.appendingPathComponent("resolv.conf")
        try "nameserver 127.0.0.1:\(port)\n".write(to: resolvConf, atomically: true, encoding: .utf8)
    }

    deinit {
        close(fd)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Queries received so far (each A or AAAA question, retries included).
    var queries: Int {
        lock.withLock {
            var buffer = [UInt8](repeating: 0, count: 1500)
            while recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT)) > 0 { received += 1 }
            return received
        }
    }
}
