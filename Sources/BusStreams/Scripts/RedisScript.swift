import BusRedis
import Synchronization

/// A Lua script as a value: its source and how many of its arguments are keys. It is sent by
/// SHA (`EVALSHA`) once the server has it; `ScriptRunner` loads it.
package struct RedisScript: Sendable, Hashable {
    /// For logs and errors.
    package let name: String
    package let keyCount: Int
    package let source: String

    package init(name: String, keyCount: Int, source: String) {
        self.name = name
        self.keyCount = keyCount
        self.source = source
    }
}

/// Runs scripts by SHA: the first run of a script sends `SCRIPT LOAD` and learns its SHA from the
/// reply (no SHA-1 computed here), every run sends `EVALSHA`. A server that lost its scripts
/// (restart, failover, `SCRIPT FLUSH`) answers NOSCRIPT; the runner then sends `SCRIPT LOAD` and
/// `EVALSHA` again, pipelined, once; a second NOSCRIPT is the caller's failure.
package struct ScriptRunner: Sendable {
    /// Sends one command; the completion runs once, with its reply.
    package typealias Send = (RedisCommand, @escaping (Result<RedisReply, RedisError>) -> Void) -> Void

    /// SHAs by script source. A SHA depends on the source only, so one table serves every
    /// connection of the process; a lock, since loops share it (taken once per run).
    final class Digests: Sendable {
        private let table = Mutex<[String: String]>([:])

        func sha(of script: RedisScript) -> String? { table.withLock { $0[script.source] } }
        func remember(_ sha: String, of script: RedisScript) { table.withLock { $0[script.source] = sha } }
    }

    /// The process-wide runner.
    package static let shared = ScriptRunner()

    let digests: Digests

    /// A runner with its own SHA table (tests); services use `shared`.
    init(digests: Digests = Digests()) { self.digests = digests }

    /// Runs `script` with `keys` (exactly `script.keyCount`) and `arguments` over `send`.
    package func run(
        _ script: RedisScript, keys: [String], arguments: [RedisArgument], send: @escaping Send,
        _ completion: @escaping (Result<RedisReply, RedisError>) -> Void
    ) {
        precondition(keys.count == script.keyCount, "\(script.name): \(script.keyCount) keys expected")
        let evalSHA = { (sha: String) in
            RedisCommand(["EVALSHA", .string(sha), .integer(Int64(keys.count))] + keys.map { .string($0) } + arguments)
        }
        run(script, evalSHA: evalSHA, send: send, completion)
    }

    /// Runs `script` with the `EVALSHA` command `evalSHA` builds for a SHA: for callers that
    /// encode their arguments straight into the command bytes (a hot path).
    package func run(
        _ script: RedisScript, evalSHA: @escaping (_ sha: String) -> RedisCommand, send: @escaping Send,
        _ completion: @escaping (Result<RedisReply, RedisError>) -> Void
    ) {
        let digests = self.digests
        let load = RedisCommand("SCRIPT", "LOAD", .string(script.source))
        guard let sha = digests.sha(of: script) else {
            send(load) { result in
                switch result {
                case .success(let reply):
                    guard let sha = reply.string else {
                        return completion(.failure(.unexpectedReply("SCRIPT LOAD answered no SHA")))
                    }
                    digests.remember(sha, of: script)
                    send(evalSHA(sha), completion)
                case .failure(let error):
                    completion(.failure(error))
                }
            }
            return
        }
        send(evalSHA(sha)) { result in
            guard case .failure(let error) = result, error.serverCode == .noScript else { return completion(result) }
            // The server lost its scripts: load again and retry once. Both go out together; the
            // load's reply comes first (replies keep command order), so the retry finds the script.
            send(load) { _ in }
            send(evalSHA(sha), completion)
        }
    }
}

extension RedisConnection {
    /// Runs `script` by SHA on this connection (see `ScriptRunner`); `completion` runs on its loop.
    package func run(
        _ script: RedisScript, keys: [String], arguments: [RedisArgument],
        _ completion: @escaping (Result<RedisReply, RedisError>) -> Void
    ) {
        ScriptRunner.shared.run(script, keys: keys, arguments: arguments, send: { self.send($0, $1) }, completion)
    }
}
