/// The Sentinel and replication replies master discovery reads: each shape decoded in one
/// place, free of I/O.
package enum SentinelProtocol {
    /// The channel on which Sentinels announce a new master.
    package static let switchMasterChannel = "+switch-master"

    /// `SENTINEL get-master-addr-by-name <name>`.
    package static func masterAddressQuery(masterName: String) -> RedisCommand {
        RedisCommand("SENTINEL", "get-master-addr-by-name", .string(masterName))
    }

    /// `ROLE`: what a server says it is, asked before it is trusted as master.
    package static let roleQuery = RedisCommand("ROLE")

    /// The reply to `masterAddressQuery`: the master's address, or nil when this Sentinel does
    /// not monitor a master of that name (a null reply).
    package static func masterAddress(from reply: RedisReply) throws(RedisError) -> RedisServerAddress? {
        if reply == .null { return nil }
        guard let pair = reply.array, pair.count == 2, let host = pair[0].string, !host.isEmpty,
            let port = pair[1].integer, (1...65535).contains(port)
        else { throw RedisError.unexpectedReply("SENTINEL get-master-addr-by-name: \(reply)") }
        return RedisServerAddress(host: host, port: Int(port))
    }

    /// A `+switch-master` message: `<master-name> <old-ip> <old-port> <new-ip> <new-port>`.
    /// Nil when it is not in that shape.
    package static func switchMaster(message: String) -> (masterName: String, newMaster: RedisServerAddress)? {
        let words = message.split(separator: " ")
        guard words.count == 5, let port = Int(words[4]), (1...65535).contains(port) else { return nil }
        return (String(words[0]), RedisServerAddress(host: String(words[3]), port: port))
    }
}

/// What a server answers to `ROLE`.
package enum RedisRole: Sendable, Equatable {
    /// A master, with the replicas connected to it.
    case master(replicas: [RedisServerAddress])
    /// A replica of `master`; `linkUp` says whether its replication link is established.
    case replica(master: RedisServerAddress, linkUp: Bool)
    case sentinel
    /// A role this client does not know.
    case other(String)

    /// True for a master: the only role a region writes to.
    package var isMaster: Bool {
        if case .master = self { return true }
        return false
    }

    /// The role's name as Redis spells it (`master`, `slave`, `sentinel`).
    package var name: String {
        switch self {
        case .master: "master"
        case .replica: "slave"
        case .sentinel: "sentinel"
        case .other(let name): name
        }
    }

    /// Decodes a `ROLE` reply: `[master, offset, [[ip, port, offset]…]]`,
    /// `[slave, ip, port, state, offset]` or `[sentinel, [names…]]`.
    package init(reply: RedisReply) throws(RedisError) {
        guard let fields = reply.array, let name = fields.first?.string else {
            throw RedisError.unexpectedReply("ROLE: \(reply)")
        }
        switch name {
        case "master":
            guard fields.count >= 3, let rows = fields[2].array else {
                throw RedisError.unexpectedReply("ROLE: \(reply)")
            }
            var replicas: [RedisServerAddress] = []
            for row in rows {
                guard let columns = row.array, columns.count >= 2, let host = columns[0].string,
                    let port = columns[1].integer
                else { throw RedisError.unexpectedReply("ROLE: \(reply)") }
                replicas.append(RedisServerAddress(host: host, port: Int(port)))
            }
            self = .master(replicas: replicas)
        case "slave":
            guard fields.count >= 4, let host = fields[1].string, let port = fields[2].integer,
                let state = fields[3].string
            else { throw RedisError.unexpectedReply("ROLE: \(reply)") }
            self = .replica(master: RedisServerAddress(host: host, port: Int(port)), linkUp: state == "connected")
        case "sentinel":
            self = .sentinel
        default:
            self = .other(name)
        }
    }
}
