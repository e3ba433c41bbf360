import BusRedis
import BusStreams

/// The Redis connection as the consumer driver uses it: `RedisConnection` in production, a
/// scripted fake in unit tests. Loop-confined like `RedisConnection`: every member is used on
/// the driver's loop, and completions run there.
protocol StreamsConnection: AnyObject {
    /// Connected and answering.
    var isReady: Bool { get }
    /// Why the connection last failed, for logs.
    var lastError: String? { get }
    /// Called on each change of `isReady`.
    var onReadinessChange: ((Bool) -> Void)? { get set }
    func start()
    /// Fails what is outstanding and stops reconnecting.
    func close()
    /// Sends one command; `completion` runs exactly once, on the loop.
    func send(_ command: RedisCommand, _ completion: @escaping (Result<RedisReply, RedisError>) -> Void)
}

extension StreamsConnection {
    /// Sends a typed command; `completion` gets its decoded reply.
    func send<Command: StreamCommand>(
        _ command: Command, _ completion: @escaping (Result<Command.Reply, RedisError>) -> Void
    ) {
        send(command.command) { result in completion(command.decode(result)) }
    }

    /// Runs `script` by SHA on this connection (see `ScriptRunner`).
    func run(
        _ script: RedisScript, keys: [String], arguments: [RedisArgument],
        _ completion: @escaping (Result<RedisReply, RedisError>) -> Void
    ) {
        ScriptRunner.shared.run(script, keys: keys, arguments: arguments, send: { self.send($0, $1) }, completion)
    }
}

extension RedisConnection: StreamsConnection {
    func send(_ command: RedisCommand, _ completion: @escaping (Result<RedisReply, RedisError>) -> Void) {
        send(command, timeout: nil, completion)
    }
}
