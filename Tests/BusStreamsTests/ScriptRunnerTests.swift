import BusRedis
import Testing

@testable import BusStreams

/// A fake server: records each command's words and answers from a queue, at once.
private final class FakeRedis {
    var sent: [[String]] = []
    var answers: [Result<RedisReply, RedisError>] = []

    func send(_ command: RedisCommand, _ completion: @escaping (Result<RedisReply, RedisError>) -> Void) {
        sent.append(command.words)
        completion(answers.isEmpty ? .failure(.unavailable) : answers.removeFirst())
    }
}

@Suite("Scripts run by SHA, loaded once, reloaded on NOSCRIPT")
struct ScriptRunnerTests {
    let script = RedisScript(name: "test", keyCount: 1, source: "return ARGV[1]")
    let noScript = RedisError(errorReply: "NOSCRIPT No matching script. Please use EVAL.")

    private func run(on redis: FakeRedis) -> Result<RedisReply, RedisError>? {
        var outcome: Result<RedisReply, RedisError>?
        ScriptRunner.run(script, keys: ["k"], arguments: ["a", .integer(1)], send: redis.send) { outcome = $0 }
        return outcome
    }

    @Test("a script's SHA is the SHA-1 of its source, as Redis names it")
    func sha() {
        // `redis-cli SCRIPT LOAD "return ARGV[1]"` answers this.
        #expect(script.sha == "098e0f0d1448c0a81dafe820f66d460eb09263da")
        #expect(RedisScript(name: "x", keyCount: 0, source: "").sha == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    }

    @Test("runs send EVALSHA only, with no load first")
    func evalSHAOnly() {
        let redis = FakeRedis()
        redis.answers = [.success(.integer(1)), .success(.integer(2))]
        #expect(run(on: redis) == .success(.integer(1)))
        #expect(run(on: redis) == .success(.integer(2)))
        let call = ["EVALSHA", script.sha, "1", "k", "a", "1"]
        #expect(redis.sent == [call, call])
    }

    @Test("NOSCRIPT: SCRIPT LOAD and EVALSHA again, once")
    func reloadOnNoScript() {
        let redis = FakeRedis()
        redis.answers = [.failure(noScript), .success(.bulk(Array(script.sha.utf8))), .success(.status("done"))]
        #expect(run(on: redis) == .success(.status("done")))
        let call = ["EVALSHA", script.sha, "1", "k", "a", "1"]
        #expect(redis.sent == [call, ["SCRIPT", "LOAD", "return ARGV[1]"], call])
    }

    @Test("a second NOSCRIPT is the caller's failure")
    func secondNoScriptSurfaces() {
        let redis = FakeRedis()
        redis.answers = [.failure(noScript), .failure(.overloaded), .failure(noScript)]
        #expect(run(on: redis) == .failure(noScript))
        #expect(redis.sent.count == 3)
    }

    @Test("other failures are not retried")
    func otherFailures() {
        let redis = FakeRedis()
        redis.answers = [.failure(.timedOut)]
        #expect(run(on: redis) == .failure(.timedOut))
        redis.answers = [.failure(RedisError(errorReply: "ERR boom"))]
        #expect(run(on: redis) == .failure(RedisError(errorReply: "ERR boom")))
        #expect(redis.sent.count == 2)
    }

    @Test("the stream scripts declare their keys")
    func streamScripts() {
        #expect(StreamScripts.deadLetter.keyCount == 2)
        #expect(StreamScripts.claimIfOwned.keyCount == 1)
        #expect(StreamScripts.removeGoneConsumers.keyCount == 1)
        #expect(StreamScripts.replayDeadLetter.keyCount == 2)
        #expect(
            Set([
                StreamScripts.deadLetter, StreamScripts.claimIfOwned, StreamScripts.removeGoneConsumers,
                StreamScripts.replayDeadLetter,
            ]).count == 4)
    }
}
