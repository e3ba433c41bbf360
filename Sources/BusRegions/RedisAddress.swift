import BusLoop
import BusRedis

/// A region's Redis, from a `redis://[[user]:password@]host[:port][/db]` URL, or a
/// Sentinel-monitored master from a `redis+sentinel://…/<master-name>[?db=N]` URL (`sentinel`).
///
/// `user` is a Redis 6+ ACL user (the handshake sends `AUTH user password`); without one the
/// password is the `default` user's. User and password may be percent-encoded (`%40` for `@`,
/// `%2F` for `/`, `%25` for `%`) and are stored decoded.
package struct RedisAddress: Sendable, Hashable, CustomStringConvertible {
    /// The server; for a Sentinel address, the first Sentinel's (never used as a data server).
    package var host: String
    package var port: Int
    package var database: Int
    /// The ACL user, decoded; nil for the `default` user.
    package var username: String?
    /// The password, decoded.
    package var password: String?
    /// Set for a `redis+sentinel://` address: the master is whichever server these Sentinels
    /// name (database, user and password are the same as the fields above). Connections are
    /// made by `RedisConnector`, which follows it.
    package private(set) var sentinel: SentinelAddress?

    package init(host: String, port: Int = 6379, database: Int = 0, username: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
    }

    /// A Sentinel-monitored master.
    package init(sentinel: SentinelAddress) {
        let first = sentinel.sentinels[0]
        self.init(
            host: first.host, port: first.port, database: sentinel.database, username: sentinel.username,
            password: sentinel.password)
        self.sentinel = sentinel
    }

    /// True for a Sentinel-monitored master.
    package var isSentinel: Bool { sentinel != nil }

    /// Parses a `redis://` or `redis+sentinel://` URL; the error says what is wrong with it.
    package init(url: String) throws(RedisAddressError) {
        if SentinelAddress.matches(url: url) {
            do {
                self.init(sentinel: try SentinelAddress(url: url))
            } catch {
                throw RedisAddressError(error.reason)
            }
            return
        }
        guard url.hasPrefix("redis://") else {
            throw RedisAddressError("must start with redis:// or \(SentinelAddress.scheme)")
        }
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
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = userInfo[..<colon]
                guard let decodedUser = PercentEncoding.decode(user) else {
                    throw RedisAddressError("bad percent-encoding in the user name")
                }
                guard let decoded = PercentEncoding.decode(userInfo[userInfo.index(after: colon)...]) else {
                    throw RedisAddressError("bad percent-encoding in the password")
                }
                username = decodedUser.isEmpty ? nil : decodedUser
                // A user with an empty password still authenticates (a `nopass` ACL user).
                password = decoded.isEmpty && username == nil ? nil : decoded
            } else if !userInfo.isEmpty {
                guard let decoded = PercentEncoding.decode(userInfo) else {
                    throw RedisAddressError("bad percent-encoding in the password")
                }
                password = decoded
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
            host: String(host), port: port, database: database, username: username,
            password: password?.isEmpty == true && username == nil ? nil : password)
    }

    /// The URL without the password, for logs and status output.
    package var description: String {
        if let sentinel { return sentinel.description }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let auth = password == nil ? "" : "\(username.map(PercentEncoding.encode) ?? ""):***@"
        return "redis://\(auth)\(hostPart):\(port)/\(database)"
    }

    /// The URL with the password, percent-encoded: what `init(url:)` reads back. Secret: for
    /// region files only, never for logs.
    package var urlWithPassword: String {
        if let sentinel { return sentinel.urlWithPassword }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let auth = password.map { "\(username.map(PercentEncoding.encode) ?? ""):\(PercentEncoding.encode($0))@" } ?? ""
        return "redis://\(auth)\(hostPart):\(port)/\(database)"
    }

    /// `url` with its password replaced by `***`: for every message that quotes a Redis URL as
    /// given (which may not even parse). Everything between `redis://` and the last `@` is user
    /// information; only a user name before a `:` stays.
    package static func redacted(url: String) -> String {
        guard let scheme = url.firstRange(of: "://"), let at = url[scheme.upperBound...].lastIndex(of: "@") else {
            return url
        }
        let userInfo = url[scheme.upperBound..<at]
        let kept = userInfo.firstIndex(of: ":").map { userInfo[..<$0] } ?? ""
        return String(url[..<scheme.upperBound]) + kept + ":***" + String(url[at...])
    }
}

package struct RedisAddressError: Error, Sendable, Equatable {
    package let reason: String

    init(_ reason: String) {
        self.reason = reason
    }
}
