import BusLoop

/// Hides the passwords of a libpq connection string (URI or `key=value` form) in text meant
/// for people: logs, error messages, `/readyz` bodies.
///
/// libpq's own messages quote the connection string or a piece of it when it does not parse
/// (`invalid percent-encoded token: "s3cr%zz"`), so every message from libpq about a connection
/// string passes through `redacting(_:of:)`.
package enum PostgresURLRedaction {
    /// `url` with every password (the URI's user info, `password=`/`sslpassword=` query
    /// parameters or keywords) replaced by `***`.
    package static func redacted(_ url: String) -> String {
        isURI(url) ? redactedURI(url).text : redactedKeywords(url).text
    }

    /// `message` with `url` shown redacted and each of its passwords (as written and
    /// percent-decoded) replaced by `***`.
    package static func redacting(_ message: String, of url: String) -> String {
        let (safeURL, secrets) = isURI(url) ? redactedURI(url) : redactedKeywords(url)
        var text = message.replacingAll(url, with: safeURL)
        var all = Set(secrets)
        // A secret may also appear decoded (libpq decodes the URL before it writes messages).
        for secret in secrets { if let decoded = PercentEncoding.decode(secret) { all.insert(decoded) } }
        // Longest first, so a password that contains another is hidden whole.
        for secret in all.filter({ !$0.isEmpty }).sorted(by: { $0.count > $1.count }) {
            text = text.replacingAll(secret, with: "***")
        }
        return text
    }

    private static func isURI(_ url: String) -> Bool {
        url.hasPrefix("postgresql://") || url.hasPrefix("postgres://")
    }

    /// The URI with its secrets replaced, and the secrets as written.
    private static func redactedURI(_ url: String) -> (text: String, secrets: [String]) {
        guard let scheme = url.firstRange(of: "://") else { return (url, []) }
        var secrets: [String] = []
        var rest = url[scheme.upperBound...]
        var out = String(url[..<scheme.upperBound])
        // libpq ends the user info at the first '@' before any '/'; hiding up to the last '@'
        // before the path hides more, never less.
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        if let at = rest[..<authorityEnd].lastIndex(of: "@") {
            let userInfo = rest[..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                out += userInfo[..<colon] + ":***"
                secrets.append(String(userInfo[userInfo.index(after: colon)...]))
            } else {
                out += userInfo
            }
            rest = rest[at...]
        }
        guard let question = rest.firstIndex(of: "?") else { return (out + rest, secrets) }
        out += rest[...question]
        let parameters = rest[rest.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false)
        out += parameters.map { parameter -> String in
            guard let equals = parameter.firstIndex(of: "="), isSecretKey(parameter[..<equals]) else {
                return String(parameter)
            }
            secrets.append(String(parameter[parameter.index(after: equals)...]))
            return parameter[...equals] + "***"
        }.joined(separator: "&")
        return (out, secrets)
    }

    /// A `key = value` string with the values of secret keys replaced (quoted values may hold
    /// spaces and `\'` escapes), and those values as written.
    private static func redactedKeywords(_ text: String) -> (text: String, secrets: [String]) {
        var out = ""
        var secrets: [String] = []
        var index = text.startIndex
        while index < text.endIndex {
            // Copy whitespace, then the key up to '='.
            while index < text.endIndex, text[index].isWhitespace {
                out.append(text[index])
                index = text.index(after: index)
            }
            let keyStart = index
            while index < text.endIndex, text[index] != "=", !text[index].isWhitespace {
                index = text.index(after: index)
            }
            let key = text[keyStart..<index]
            out += key
            while index < text.endIndex, text[index].isWhitespace || text[index] == "=" {
                out.append(text[index])
                index = text.index(after: index)
            }
            let valueStart = index
            if index < text.endIndex, text[index] == "'" {
                index = text.index(after: index)
                while index < text.endIndex, text[index] != "'" {
                    if text[index] == "\\" { index = text.index(after: index) }
                    if index < text.endIndex { index = text.index(after: index) }
                }
                if index < text.endIndex { index = text.index(after: index) }
            } else {
                while index < text.endIndex, !text[index].isWhitespace { index = text.index(after: index) }
            }
            let value = text[valueStart..<index]
            if isSecretKey(key) {
                out += "***"
                var bare = value
                if bare.hasPrefix("'") { bare = bare.dropFirst() }
                if bare.hasSuffix("'") { bare = bare.dropLast() }
                secrets.append(String(value))
                secrets.append(String(bare))
                secrets.append(bare.replacingAll("\\'", with: "'").replacingAll("\\\\", with: "\\"))
            } else {
                out += value
            }
        }
        return (out, secrets)
    }

    /// `password`, `sslpassword`, and any other key that ends in "password".
    private static func isSecretKey(_ key: Substring) -> Bool {
        key.lowercased().hasSuffix("password")
    }
}

extension StringProtocol {
    /// Every occurrence of `target` replaced, without Foundation.
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return String(self) }
        var out = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
