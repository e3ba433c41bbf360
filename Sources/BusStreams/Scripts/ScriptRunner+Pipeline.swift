import BusRedis

/// A script for pipelined calls on one connection: its `EVALSHA` commands, which can go out
/// behind each other and behind plain commands, in order, once `ScriptRunner.prepare` has put
/// the script on the server ahead of them.
package struct PreparedScript: Sendable, Equatable {
    package let script: RedisScript

    package var sha: String { script.sha }

    /// `EVALSHA` of the script with `keys` (exactly `script.keyCount`) and `arguments`.
    package func command(keys: [String], arguments: [RedisArgument]) -> RedisCommand {
        precondition(
            script.keyCount == nil || keys.count == script.keyCount,
            "\(script.name): \(script.keyCount ?? 0) keys expected")
        return RedisCommand(
            ["EVALSHA", .string(sha), .integer(Int64(keys.count))] + keys.map { .string($0) } + arguments)
    }
}

extension ScriptRunner {
    /// Makes sure the server behind `send` holds `script` before the commands sent after this
    /// call, for callers that pipeline several calls and must keep their order (a batch's
    /// appends): `run`'s reload on NOSCRIPT would send the failed call again after later ones.
    ///
    /// `SCRIPT LOAD` goes out first and its reply is not awaited: replies keep command order, so
    /// the server has the script for every later command, and a load that failed with the
    /// connection fails those commands too. Only a `SCRIPT FLUSH` between the load and a call
    /// can still make that call fail with NOSCRIPT.
    package static func prepare(_ script: RedisScript, send: Send) -> PreparedScript {
        send(script.load) { _ in }
        return PreparedScript(script: script)
    }
}

extension RedisConnection {
    /// Prepares `script` on this connection for pipelined calls (see `ScriptRunner.prepare`).
    package func prepare(_ script: RedisScript) -> PreparedScript {
        ScriptRunner.prepare(script, send: { self.send($0, $1) })
    }
}
