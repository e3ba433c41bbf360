/// A region's Redis, from a `redis://[[user]:password@]host[:port][/db]` URL.
public struct RedisAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var database: Int
    public var password: String?

    public init(host: String, port: Int = 6379, database: Int = 0, password: String? = nil) {
        self.host = host
        self.port = port
        self.database = database
        self.password = password
    }

    /// Parses a `redis://` URL; the error says what is wrong with it.
    public init(url: String) throws(RedisAddressError) {
        guard url.hasPrefix("redis://") else { throw RedisAddressError("must start with redis://") }
        var rest = Substring(url.dropFirst("redis://".count))
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let number = Int(path), number >= 0, number <= 1_000_000 else {
                    throw RedisAddressError("database must be a number, not \"\(path)\"")
                }
                database = number
            }
        }
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                password = String(userInfo[userInfo.index(after: colon)...])
            } else if !userInfo.isEmpty {
                password = String(userInfo)
            }
        }
        var host = rest
        var port = 6379
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw RedisAddressError("unclosed [ in host") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let number = Int(after.dropFirst()) else {
                    throw RedisAddressError("bad port")
                }
                port = number
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let number = Int(rest[rest.index(after: colon)...]) else {
                throw RedisAddressError("port must be a number")
            }
            port = number
        }
        guard !host.isEmpty else { throw RedisAddressError("host is missing") }
        guard (1...65535).contains(port) else { throw RedisAddressError("port must be 1 to 65535") }
        self.init(
            host: String(host), port: port, database: database, password: password?.isEmpty == true ? nil : password)
    }

    /// The URL without the password, for logs and status output.
    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "redis://\(password == nil ? "" : ":***@")\(hostPart):\(port)/\(database)"
    }
}

public struct RedisAddressError: Error, Sendable, Equatable {
    public let reason: String

    init(_ reason: String) {
        self.reason = reason
    }
}
