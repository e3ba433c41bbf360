import BusDomain
import BusLoop
import BusRedis
import BusStreams
import Foundation

/// A Redis connection for command-line tools: each call blocks the calling (non-loop) thread
/// until the reply, on a private loop thread. Not for services.
public final class BlockingRedisClient: @unchecked Sendable {
    // @unchecked Sendable: `connection` is created before the loop starts and then used only on it.
    private let thread: LoopThread
    private let connection: RedisConnection

    /// Connects to `address`; throws if it does not answer within `timeout`.
    public init(address: RedisAddress, timeout: Duration = .seconds(2)) throws(RedisError) {
        let loop = EventLoop(name: "redis-cli")
        var configuration = RedisConnectionConfiguration(
            host: address.host, port: address.port, database: address.database, username: address.username,
            password: address.password)
        configuration.connectTimeout = timeout
        configuration.commandTimeout = timeout
        connection = RedisConnection(loop: loop, configuration: configuration)
        thread = LoopThread(loop: loop)
        let ready = DispatchSemaphore(value: 0)
        connection.onReadinessChange = { _ in ready.signal() }
        thread.start()
        loop.execute { [connection = LoopBound(connection, loop: loop)] in connection.value.start() }
        let answered = ready.wait(timeout: .now() + .milliseconds(Int(timeout.components.seconds * 1000) + 500))
        guard answered == .success, isReady() else {
            close()
            throw RedisError.unavailable
        }
    }

    private func isReady() -> Bool {
        let box = Box<Bool>()
        let loop = thread.loop
        loop.execute { [connection = LoopBound(connection, loop: loop)] in box.set(connection.value.isReady) }
        return box.wait()
    }

    /// Sends one command and waits for its reply.
    public func send(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        try onLoop { connection, done in connection.send(command, done) }
    }

    /// Sends one typed command and waits for its decoded reply.
    public func send<Command: StreamCommand>(_ command: Command) throws(RedisError) -> Command.Reply {
        try command.decode(Result { () throws(RedisError) in try send(command.command) }).get()
    }

    /// Runs a script by SHA (loading it when the server lacks it) and waits for its reply.
    public func run(_ script: RedisScript, keys: [String], arguments: [RedisArgument]) throws(RedisError)
        -> RedisReply
    {
        try onLoop { connection, done in connection.run(script, keys: keys, arguments: arguments, done) }
    }

    /// Starts `work` on the connection's loop and waits for the reply it hands to its completion.
    private func onLoop(
        _ work: @escaping @Sendable (RedisConnection, @escaping (Result<RedisReply, RedisError>) -> Void) -> Void
    ) throws(RedisError) -> RedisReply {
        let box = Box<Result<RedisReply, RedisError>>()
        let loop = thread.loop
        loop.execute { [connection = LoopBound(connection, loop: loop)] in
            work(connection.value) { box.set($0) }
        }
        return try box.wait().get()
    }

    public func close() {
        let loop = thread.loop
        loop.execute { [connection = LoopBound(connection, loop: loop)] in
            connection.value.close()
            loop.stop()
        }
        thread.join()
    }

    private final class Box<Value>: @unchecked Sendable {
        // @unchecked Sendable: written once on the loop, read after the semaphore.
        private var value: Value?
        private let ready = DispatchSemaphore(value: 0)

        func set(_ value: Value) {
            self.value = value
            ready.signal()
        }

        func wait() -> Value {
            ready.wait()
            return value!
        }
    }
}
