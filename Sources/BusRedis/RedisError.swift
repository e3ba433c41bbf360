/// Why a Redis command did not get a reply.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The connection is not up (connecting, reconnecting after a failure, or closed).
    case unavailable
    /// Too many commands are already waiting on this connection.
    case overloaded
    /// No reply within the command's timeout; the command may or may not have been applied.
    case timedOut
    /// The connection dropped while the command waited; it may or may not have been applied.
    case disconnected
    /// Redis answered with an error reply (`OOM …`, `NOGROUP …`, `WRONGTYPE …`).
    case server(String)

    public var description: String {
        switch self {
        case .unavailable: "Redis connection unavailable"
        case .overloaded: "too many Redis commands outstanding"
        case .timedOut: "Redis did not answer in time"
        case .disconnected: "Redis connection lost"
        case .server(let message): "Redis error: \(message)"
        }
    }

    /// True for Redis's out-of-memory refusal (maxmemory reached under `noeviction`).
    public var isOutOfMemory: Bool {
        if case .server(let message) = self { return message.hasPrefix("OOM") }
        return false
    }
}
