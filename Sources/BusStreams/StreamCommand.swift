import BusRedis

/// A Redis command with the type of its reply: the command's bytes, encoded once, and the
/// decoder that turns Redis's answer into a value. Every stream command the services send is
/// one of these, so a reply shape is read in exactly one place.
package protocol StreamCommand: Sendable {
    associatedtype Reply
    /// The command, RESP-encoded.
    var command: RedisCommand { get }
    /// Decodes a successful reply; a reply of another shape is `RedisError.unexpectedReply`.
    func decode(_ reply: RedisReply) throws(RedisError) -> Reply
    /// Decodes the whole outcome. The default decodes replies and passes failures through;
    /// a command overrides it when an error reply is an answer (BUSYGROUP on XGROUP CREATE).
    func decode(_ result: Result<RedisReply, RedisError>) -> Result<Reply, RedisError>
}

extension StreamCommand {
    package func decode(_ result: Result<RedisReply, RedisError>) -> Result<Reply, RedisError> {
        switch result {
        case .success(let reply):
            do throws(RedisError) {
                return .success(try decode(reply))
            } catch {
                return .failure(error)
            }
        case .failure(let error):
            return .failure(error)
        }
    }
}

extension RedisConnection {
    /// Sends a typed command; `completion` gets its decoded reply, on this connection's loop.
    package func send<Command: StreamCommand>(
        _ command: Command, _ completion: @escaping (Result<Command.Reply, RedisError>) -> Void
    ) {
        send(command.command) { result in completion(command.decode(result)) }
    }
}
