/// Why a Redis command did not get a reply, or got one its caller cannot use.
package enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The connection is not up (connecting, reconnecting after a failure, or closed).
    case unavailable
    /// Too many commands are already waiting on this connection.
    case overloaded
    /// No reply within the command's timeout; the command may or may not have been applied.
    case timedOut
    /// The connection dropped while the command waited; it may or may not have been applied.
    case disconnected
    /// Redis answered with an error reply (`OOM …`, `NOGROUP …`, `WRONGTYPE …`), split once,
    /// where the reply is copied, into its leading code and the rest. Callers compare codes,
    /// never the text.
    case server(code: RedisErrorCode, message: String)
    /// Redis answered, but not in the shape the command's decoder expects.
    case unexpectedReply(String)

    package var description: String {
        switch self {
        case .unavailable: "Redis connection unavailable"
        case .overloaded: "too many Redis commands outstanding"
        case .timedOut: "Redis did not answer in time"
        case .disconnected: "Redis connection lost"
        case .server: "Redis error: \(serverText ?? "")"
        case .unexpectedReply(let what): "unexpected Redis reply: \(what)"
        }
    }

    /// Parses an error reply's text (`CODE message`) as Redis sent it. The code is the first
    /// word when it is upper case (Redis's convention, also for `redis.error_reply` in scripts);
    /// otherwise the code is empty and the message is the whole text.
    package init(errorReply text: String) {
        let word = text.prefix { $0 != " " }
        let isCode =
            !word.isEmpty
            && word.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 45 }
        guard isCode else {
            self = .server(code: RedisErrorCode(""), message: text)
            return
        }
        let rest = text[word.endIndex...].dropFirst()
        self = .server(code: RedisErrorCode(String(word)), message: String(rest))
    }

    /// The error reply's text exactly as Redis sent it (code, a space, message), for a server error.
    package var serverText: String? {
        guard case .server(let code, let message) = self else { return nil }
        if code.rawValue.isEmpty { return message }
        return message.isEmpty ? code.rawValue : "\(code.rawValue) \(message)"
    }

    /// The code of a server error reply, nil for any other failure.
    package var serverCode: RedisErrorCode? {
        if case .server(let code, _) = self { return code }
        return nil
    }

    /// True for Redis's out-of-memory refusal (maxmemory reached under `noeviction`).
    package var isOutOfMemory: Bool { serverCode == .outOfMemory }
}

/// The leading word of a Redis error reply. Any code Redis sends is kept; the named ones are
/// those callers act on.
package struct RedisErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    package let rawValue: String

    package init(rawValue: String) { self.rawValue = rawValue }
    package init(_ rawValue: String) { self.rawValue = rawValue }

    package var description: String { rawValue }

    /// `XGROUP CREATE` of a group that exists.
    package static let busyGroup = RedisErrorCode("BUSYGROUP")
    /// The stream or its consumer group does not exist (deleted or evicted).
    package static let noGroup = RedisErrorCode("NOGROUP")
    /// maxmemory reached under `noeviction`.
    package static let outOfMemory = RedisErrorCode("OOM")
    /// EVALSHA of a script the server does not hold (restart, failover, SCRIPT FLUSH).
    package static let noScript = RedisErrorCode("NOSCRIPT")
    /// A write sent to a replica.
    package static let readOnly = RedisErrorCode("READONLY")
    /// A replica that lost its master refuses reads.
    package static let masterDown = RedisErrorCode("MASTERDOWN")
    /// The key holds another type.
    package static let wrongType = RedisErrorCode("WRONGTYPE")
    /// Redis's generic error.
    package static let generic = RedisErrorCode("ERR")
}
