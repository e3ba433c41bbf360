import BusLoop
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("ListenAddress and socket addresses")
struct ListenAddressTests {
    @Test("listen addresses")
    func addresses() {
        #expect(ListenAddress("127.0.0.1:8080") == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(ListenAddress("[::1]:80") == ListenAddress(host: "::1", port: 80))
        #expect(ListenAddress("localhost:0")?.port == 0)
        #expect(ListenAddress("8080") == nil)
        #expect(ListenAddress("h:70000") == nil)
        #expect(ListenAddress(":80") == nil)
        #expect(ListenAddress(host: "::1", port: 80).description == "[::1]:80")
    }

    @Test("resolve gives the family and port of numeric hosts; a bad host is a BindError")
    func resolve() throws {
        let v4 = try ListenAddress(host: "127.0.0.1", port: 8080).resolve()
        #expect(Int32(v4.ss_family) == AF_INET && v4.port == 8080)
        let v6 = try ListenAddress(host: "::1", port: 443).resolve()
        #expect(Int32(v6.ss_family) == AF_INET6 && v6.port == 443)
        #expect(throws: BindError.self) { try ListenAddress(host: "not an address!", port: 1).resolve() }
    }

    @Test("ensureNoListener passes a free port and port 0, and names a port another socket listens on")
    func ensureNoListener() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(bindSocket(fd, to: .loopbackIPv4(port: 0)))
        #expect(listen(fd, 1) == 0)
        let port = try #require(sockaddr_storage.bound(to: fd)?.port)
        #expect(port != 0)

        let taken = ListenAddress(host: "127.0.0.1", port: port)
        #expect(throws: BindError.self) { try taken.ensureNoListener() }
        do {
            try taken.ensureNoListener()
        } catch {
            #expect(
                error.description == "cannot listen on 127.0.0.1:\(port): another process is already listening there")
        }
        try ListenAddress(host: "127.0.0.1", port: 0).ensureNoListener()
        close(fd)
        try taken.ensureNoListener()
    }
}
