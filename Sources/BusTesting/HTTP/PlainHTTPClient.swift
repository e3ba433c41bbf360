import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A response as `PlainHTTPClient` received it.
package struct PlainHTTPResponse: Sendable {
    package let status: Int
    /// Header names lowercased.
    package let headers: [String: String]
    package let body: [UInt8]

    package var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as a JSON object (empty when it is not one).
    package var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }

    /// `error.code` of a contract error body.
    package var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    package var errorMessage: String? { (json["error"] as? [String: Any])?["message"] as? String }
}

/// A deliberately plain, blocking HTTP/1.1 client over a loopback socket: one request per
/// connection, any bytes as the body, no retries. For tools (`up --demo`) and tests, which
/// must see exactly what a server answers; never for a service's event loop.
package enum PlainHTTPClient {
    package static func request(
        port: Int, method: String, path: String, headers: [String: String] = [:], body: [UInt8]? = nil,
        timeout: TimeInterval = 10
    ) throws(FixtureError) -> PlainHTTPResponse {
        let fd = try LoopbackPorts.connect(port: port, timeout: Int(timeout))
        defer { close(fd) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try writeAll(fd, Array(head.utf8) + (body ?? []))
        return try parse(try readAll(fd, lenient: false))
    }

    /// POST /v1/spawn with a JSON body.
    package static func spawn(port: Int, _ json: String, contentType: String = "application/json")
        throws(FixtureError) -> PlainHTTPResponse
    {
        try request(
            port: port, method: "POST", path: "/v1/spawn", headers: ["Content-Type": contentType],
            body: Array(json.utf8))
    }

    /// Writes `text` as it is and returns everything the server sends until it closes the
    /// connection (or `timeout` seconds pass without a byte). For requests `request` cannot
    /// express: pipelined requests, a body where the method takes none.
    package static func exchange(port: Int, _ text: String, timeout: Int = 10) throws(FixtureError) -> String {
        let fd = try LoopbackPorts.connect(port: port, timeout: timeout)
        defer { close(fd) }
        try writeAll(fd, Array(text.utf8))
        return String(decoding: try readAll(fd, lenient: true), as: UTF8.self)
    }

    /// Reads until the server closes. `lenient` keeps what arrived when a read fails (a
    /// timeout, a reset); otherwise only a reset after some bytes is taken as the end.
    private static func readAll(_ fd: Int32, lenient: Bool) throws(FixtureError) -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count > 0 {
                received.append(contentsOf: buffer[0..<count])
            } else if count == 0 {
                return received
            } else {
                if errno == EINTR { continue }
                if lenient || (errno == ECONNRESET && !received.isEmpty) { return received }
                throw FixtureError("read failed: errno \(errno) after \(received.count) bytes")
            }
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(FixtureError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                // The server may answer (413) and close before reading a large body.
                if errno == EPIPE || errno == ECONNRESET { return }
                throw FixtureError("write failed: errno \(errno)")
            }
            offset += written
        }
    }

    private static func parse(_ bytes: [UInt8]) throws(FixtureError) -> PlainHTTPResponse {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let split = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else {
            throw FixtureError("no complete HTTP response: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        let head = String(decoding: bytes[..<split], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = head[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw FixtureError("bad status line \(head[0])")
        }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        var body = Array(bytes[(split + 4)...])
        if let length = headers["content-length"].flatMap(Int.init), body.count > length {
            body = Array(body.prefix(length))
        }
        return PlainHTTPResponse(status: status, headers: headers, body: body)
    }
}
