import BusLoop
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
        guard bindSocket(fd, to: .loopbackIPv4(port: 0)), let bound = sockaddr_storage.bound(to: fd) else {
            close(fd)
            throw FixtureError("cannot bind a UDP socket")
        }
        port = bound.port
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
