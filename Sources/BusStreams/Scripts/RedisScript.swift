import BusRedis
import Crypto

/// A Lua script as a value: its source, how many of its arguments are keys, and its SHA-1 (the
/// name Redis knows it by), computed once here so that no run has to learn it from the server.
package struct RedisScript: Sendable, Hashable {
    /// For logs and errors.
    package let name: String
    /// How many of its arguments are keys; nil when each call says (a script over a variable
    /// number of keys, which encodes its own `EVALSHA`).
    package let keyCount: Int?
    package let source: String
    /// The lowercase hex SHA-1 of `source`, as `SCRIPT LOAD` answers it.
    package let sha: String
    /// `SCRIPT LOAD` of the source, encoded once: batches and durable keyed spawns send it
    /// ahead of their calls, and the idempotency script is about a kilobyte.
    let load: RedisCommand

    package init(name: String, keyCount: Int?, source: String) {
        self.name = name
        self.keyCount = keyCount
        self.source = source
        self.sha = Insecure.SHA1.hash(data: Array(source.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        self.load = RedisCommand("SCRIPT", "LOAD", .string(source))
    }

    /// Equal when name, source and key count are (the encoded `load` follows from the source).
    package static func == (lhs: RedisScript, rhs: RedisScript) -> Bool {
        lhs.source == rhs.source && lhs.keyCount == rhs.keyCount && lhs.name == rhs.name
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(sha)
    }
}

/// Runs scripts by SHA: every run sends `EVALSHA`. A server that lacks the script (first use,
/// restart, failover, `SCRIPT FLUSH`) answers NOSCRIPT; the runner then sends `SCRIPT LOAD` and
/// `EVALSHA` again, pipelined, once; a second NOSCRIPT is the caller's failure. It holds no
/// state: the SHA is the script's own, so loops share nothing and take no lock.
package enum ScriptRunner {
    /// Sends one command; the completion runs once, with its reply.
    package typealias Send = (RedisCommand, @escaping (Result<RedisReply, RedisError>) -> Void) -> Void

    /// Runs `script` with `keys` (exactly `script.keyCount`) and `arguments` over `send`.
    package static func run(
        _ script: RedisScript, keys: [String], arguments: [RedisArgument], send: @escaping Send,
        _ completion: @escaping (Result<RedisReply, RedisError>) -> Void
    ) {
        let command = PreparedScript(script: script).command(keys: keys, arguments: arguments)
        run(script, command: command, send: send, completion)
    }

    /// Runs `script` as `command`, its `EVALSHA` already encoded: for callers that write their
    /// arguments straight into the command bytes (a hot path).
    package static func run(
        _ script: RedisScript, command: RedisCommand, send: @escaping Send,
        _ completion: @escaping (Result<RedisReply, RedisError>) -> Void
    ) {
        send(command) { result in
            guard case .failure(let error) = result, error.serverCode == .noScript else { return completion(result) }
            // The server lacks the script: load it and retry once. Both go out together; the
            // load's reply comes first (replies keep command order), so the retry finds the script.
            send(script.load) { _ in }
            send(command, completion)
        }
    }
}

extension RedisConnection {
    /// Runs `script` by SHA on this connection (see `ScriptRunner`); `completion` runs on its loop.
    package func run(
        _ script: RedisScript, keys: [String], arguments: [RedisArgument],
        _ completion: @escaping (Result<RedisReply, RedisError>) -> Void
    ) {
        ScriptRunner.run(script, keys: keys, arguments: arguments, send: { self.send($0, $1) }, completion)
    }
}
