import BusRedis

/// A script the server is known to hold on one connection for the commands that follow: its
/// calls can be pipelined behind each other and behind plain commands, in order.
package struct PreparedScript: Sendable, Equatable {
    package let script: RedisScript
    package let sha: String

    /// `EVALSHA` of the script with `keys` (exactly `script.keyCount`) and `arguments`.
    package func command(keys: [String], arguments: [RedisArgument]) -> RedisCommand {
        precondition(keys.count == script.keyCount, "\(script.name): \(script.keyCount) keys expected")
        return RedisCommand(
            ["EVALSHA", .string(sha), .integer(Int64(keys.count))] + keys.map { .string($0) } + arguments)
    }
}

extension ScriptRunner {
    /// Makes sure the server behind `send` holds `script` before the commands sent after this
    /// call, for callers that pipeline several calls and must keep their order (a batch's
    /// appends): `run`'s reload on NOSCRIPT would send the failed call again after later ones.
    ///
    /// A known SHA: `SCRIPT LOAD` goes out first (its reply is not awaited: replies keep command
    /// order, and the server has the script for every later command) and `completion` runs at
    /// once. An unknown SHA: `completion` runs when the load answers. Only a `SCRIPT FLUSH`
    /// between the load and a call can still make that call fail with NOSCRIPT.
    package func prepare(
        _ script: RedisScript, send: @escaping Send,
        _ completion: @escaping (Result<PreparedScript, RedisError>) -> Void
    ) {
        let load = RedisCommand("SCRIPT", "LOAD", .string(script.source))
        if let sha = digests.sha(of: script) {
            send(load) { _ in }
            return completion(.success(PreparedScript(script: script, sha: sha)))
        }
        let digests = self.digests
        send(load) { result in
            switch result {
            case .success(let reply):
                guard let sha = reply.string else {
                    return completion(.failure(.unexpectedReply("SCRIPT LOAD answered no SHA")))
                }
                digests.remember(sha, of: script)
                completion(.success(PreparedScript(script: script, sha: sha)))
            case .failure(let error):
                completion(.failure(error))
            }
        }
    }
}

extension RedisConnection {
    /// Prepares `script` on this connection for pipelined calls (see `ScriptRunner.prepare`).
    package func prepare(
        _ script: RedisScript, _ completion: @escaping (Result<PreparedScript, RedisError>) -> Void
    ) {
        ScriptRunner.shared.prepare(script, send: { self.send($0, $1) }, completion)
    }
}
