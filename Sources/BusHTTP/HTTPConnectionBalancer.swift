import BusLoop
import Synchronization

/// Keeps the connections of one service even across its loops.
///
/// Every loop's server accepts on its own SO_REUSEPORT socket, and the kernel picks the socket
/// by a hash of the client's address and port: 16 connections split 8/8 only a fifth of the
/// time, and 10/6 or worse almost half the time. With keep-alive clients that split stays for
/// the connections' lives, and the busier loop queues while the other has idle time (and, in the activation
/// service, idle Postgres connections of its own pool). So a server that accepts a connection
/// while another loop of the service holds fewer hands it to that loop.
///
/// Shared by the servers of one service through their configuration, like
/// `HTTPServerCounters`. Its lock is taken when a connection opens or closes, never per request.
package final class HTTPConnectionBalancer: Sendable {
    private struct Slot {
        /// The port the server listens on: connections move only between servers of one port.
        let port: Int
        var connections = 0
        /// Nil once the server stopped accepting or closed: it takes no more connections.
        var server: LoopBound<ServerReference>?
    }

    /// A server, weakly: the balancer lives in the servers' shared configuration, so a strong
    /// reference would be a cycle.
    struct ServerReference {
        weak var server: HTTPServer?
    }

    private let slots = Mutex<[Slot]>([])

    package init() {}

    /// Connections each registered server holds now, in registration order (tests, metrics).
    package var connectionsPerServer: [Int] { slots.withLock { $0.map(\.connections) } }

    /// Adds a server listening on `port`; returns its slot.
    func register(_ server: LoopBound<ServerReference>, port: Int) -> Int {
        slots.withLock { slots in
            slots.append(Slot(port: port, server: server))
            return slots.count - 1
        }
    }

    /// The server stops taking connections (it stopped accepting, or closed).
    func withdraw(_ slot: Int) {
        slots.withLock { $0[slot].server = nil }
    }

    /// Where a connection accepted by the server in `slot` goes: nil to keep it, or the server
    /// of the same port holding the fewest connections when that is fewer than `slot` holds. The connection is
    /// counted for its server at once, so that concurrent accepts see it.
    func place(acceptedBy slot: Int) -> (slot: Int, server: LoopBound<ServerReference>)? {
        slots.withLock { slots in
            var target: (slot: Int, server: LoopBound<ServerReference>)?
            var fewest = slots[slot].connections
            let port = slots[slot].port
            for index in slots.indices
            where index != slot && slots[index].port == port && slots[index].connections < fewest {
                guard let server = slots[index].server else { continue }
                target = (index, server)
                fewest = slots[index].connections
            }
            slots[target?.slot ?? slot].connections += 1
            return target
        }
    }

    /// A connection of the server in `slot` closed (or a handed-over one was refused).
    func closed(_ slot: Int, count: Int = 1) {
        slots.withLock { $0[slot].connections -= count }
    }
}
