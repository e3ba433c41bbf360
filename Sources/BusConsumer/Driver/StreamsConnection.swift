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
    /// Runs `script` by SHA (see `ScriptRunner`); `RedisConnection`'s own `run` is the witness.
    /// A requirement rather than an extension, so that a fake keeps its made-up SHAs out of the
    /// process-wide table real connections share.
    func run(
        _ script: RedisScript, keys: [String], arguments: [RedisArgument],
        _ completion: @escaping (Result<RedisReply, RedisError>) -> Void)
}

extension StreamsConnection {
    /// Sends a typed command; `completion` gets its decoded reply.
    func send<Command: StreamCommand>(
        _ command: Command, _ completion: @escaping (Result<Command.Reply, RedisError>) -> Void
    ) {
        send(command.command) { result in completion(command.decode(result)) }
    }
}

extension RedisConnection: StreamsConnection {
    func send(_ command: RedisCommand, _ completion: @escaping (Result<RedisReply, RedisError>) -> Void) {
        send(command, timeout: nil, completion)
    }
}
