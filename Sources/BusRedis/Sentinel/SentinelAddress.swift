import BusLoop

/// A Redis master found through Sentinels:
/// `redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/<master-name>[?db=N]`.
///
/// The Sentinels are asked in the order listed (port 26379 when omitted). The user and password
/// are the master's (and its replicas'); the Sentinels are asked without authentication.
package struct SentinelAddress: Sendable, Hashable, CustomStringConvertible {
    package static let scheme = "redis+sentinel://"
    package static let defaultSentinelPort = 26379

    /// At least one, no duplicates, in the order to ask them.
    package var sentinels: [RedisServerAddress]
    /// The name the Sentinels monitor the master under (`sentinel monitor <name> …`).
    package var masterName: String
    package var database: Int
    /// The ACL user, decoded; nil for the `default` user.
    package var username: String?
    /// The password, decoded.
    package var password: String?

    package init(
        sentinels: [RedisServerAddress], masterName: String, database: Int = 0, username: String? = nil,
        password: String? = nil
    ) {
        self.sentinels = sentinels
        self.masterName = masterName
        self.database = database
        self.username = username
        self.password = password
    }

    /// True when `url` uses this scheme (whether or not the rest parses).
    package static func matches(url: String) -> Bool { url.hasPrefix(scheme) }

    /// Parses a `redis+sentinel://` URL; the error says what is wrong with it.
    package init(url: String) throws(SentinelAddressError) {
        guard url.hasPrefix(Self.scheme) else { throw SentinelAddressError("must start with \(Self.scheme)") }
        var rest = Substring(url.dropFirst(Self.scheme.count))
        var database = 0
        if let question = rest.firstIndex(of: "?") {
            database = try Self.database(query: rest[rest.index(after: question)...])
            rest = rest[..<question]
        }
        guard let slash = rest.firstIndex(of: "/") else {
            throw SentinelAddressError("the master name is missing (…/<master-name>)")
        }
        let path = rest[rest.index(after: slash)...]
        rest = rest[..<slash]
        guard !path.isEmpty else { throw SentinelAddressError("the master name is missing (…/<master-name>)") }
        guard !path.contains("/") else { throw SentinelAddressError("the path must be only the master name") }
        guard let masterName = PercentEncoding.decode(path), !masterName.isEmpty else {
            throw SentinelAddressError("bad percent-encoding in the master name")
        }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            (username, password) = try Self.credentials(rest[..<at])
            rest = rest[rest.index(after: at)...]
        }
        guard !rest.isEmpty else { throw SentinelAddressError("no Sentinel listed") }
        var sentinels: [RedisServerAddress] = []
        for item in rest.split(separator: ",", omittingEmptySubsequences: false) {
            let sentinel = try Self.hostAndPort(item)
            guard !sentinels.contains(sentinel) else { throw SentinelAddressError("Sentinel \(sentinel) listed twice") }
            sentinels.append(sentinel)
        }
        self.init(
            sentinels: sentinels, masterName: masterName, database: database, username: username, password: password)
    }

    /// The URL without the password, for logs and status output.
    package var description: String { url(password: password.map { _ in "***" }) }

    /// The URL with the password, percent-encoded: what `init(url:)` reads back. Secret: for
    /// region files only, never for logs.
    package var urlWithPassword: String { url(password: password.map(PercentEncoding.encode)) }

    private func url(password shown: String?) -> String {
        let auth = shown.map { "\(username.map(PercentEncoding.encode) ?? ""):\($0)@" } ?? ""
        let hosts = sentinels.map(\.description).joined(separator: ",")
        let query = database == 0 ? "" : "?db=\(database)"
        return "\(Self.scheme)\(auth)\(hosts)/\(PercentEncoding.encode(masterName))\(query)"
    }

    private static func database(query: Substring) throws(SentinelAddressError) -> Int {
        var database = 0
        for pair in query.split(separator: "&") {
            guard let equals = pair.firstIndex(of: "="), pair[..<equals] == "db" else {
                throw SentinelAddressError("unknown query parameter \"\(pair)\" (only db=N)")
            }
            guard let number = Int(pair[pair.index(after: equals)...]), number >= 0, number <= 1_000_000 else {
                throw SentinelAddressError("db must be a number, not \"\(pair[pair.index(after: equals)...])\"")
            }
            database = number
        }
        return database
    }

    private static func credentials(_ userInfo: Substring) throws(SentinelAddressError) -> (String?, String?) {
        guard let colon = userInfo.firstIndex(of: ":") else {
            guard let password = PercentEncoding.decode(userInfo) else {
                throw SentinelAddressError("bad percent-encoding in the password")
            }
            return (nil, password.isEmpty ? nil : password)
        }
        guard let user = PercentEncoding.decode(userInfo[..<colon]) else {
            throw SentinelAddressError("bad percent-encoding in the user name")
        }
        guard let password = PercentEncoding.decode(userInfo[userInfo.index(after: colon)...]) else {
            throw SentinelAddressError("bad percent-encoding in the password")
        }
        let username = user.isEmpty ? nil : user
        // A user with an empty password still authenticates (a `nopass` ACL user).
        return (username, password.isEmpty && username == nil ? nil : password)
    }

    private static func hostAndPort(_ text: Substring) throws(SentinelAddressError) -> RedisServerAddress {
        var host = text
        var port = defaultSentinelPort
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw SentinelAddressError("unclosed [ in \"\(text)\"") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let number = Int(after.dropFirst()) else {
                    throw SentinelAddressError("bad port in \"\(text)\"")
                }
                port = number
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            guard let number = Int(text[text.index(after: colon)...]) else {
                throw SentinelAddressError("port must be a number in \"\(text)\"")
            }
            port = number
        }
        guard !host.isEmpty else { throw SentinelAddressError("a Sentinel host is missing") }
        guard (1...65535).contains(port) else { throw SentinelAddressError("port must be 1 to 65535 in \"\(text)\"") }
        return RedisServerAddress(host: String(host), port: port)
    }
}

/// Why a `redis+sentinel://` URL was refused.
package struct SentinelAddressError: Error, Sendable, Equatable, CustomStringConvertible {
    package let reason: String

    init(_ reason: String) {
        self.reason = reason
    }

    package var description: String { reason }
}
