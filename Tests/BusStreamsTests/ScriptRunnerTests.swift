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

    private func run(_ runner: ScriptRunner, on redis: FakeRedis) -> Result<RedisReply, RedisError>? {
        var outcome: Result<RedisReply, RedisError>?
        runner.run(script, keys: ["k"], arguments: ["a", .integer(1)], send: redis.send) { outcome = $0 }
        return outcome
    }

    @Test("the first run loads the script and learns its SHA from the reply; later runs send EVALSHA only")
    func loadOnce() {
        let runner = ScriptRunner(digests: .init())
        let redis = FakeRedis()
        redis.answers = [.success(.bulk(Array("abc123".utf8))), .success(.integer(1)), .success(.integer(2))]
        #expect(run(runner, on: redis) == .success(.integer(1)))
        #expect(run(runner, on: redis) == .success(.integer(2)))
        #expect(
            redis.sent == [
                ["SCRIPT", "LOAD", "return ARGV[1]"], ["EVALSHA", "abc123", "1", "k", "a", "1"],
                ["EVALSHA", "abc123", "1", "k", "a", "1"],
            ])
    }

    @Test("NOSCRIPT: SCRIPT LOAD and EVALSHA again, once")
    func reloadOnNoScript() {
        let runner = ScriptRunner(digests: .init())
        runner.digests.remember("abc123", of: script)
        let redis = FakeRedis()
        redis.answers = [.failure(noScript), .success(.bulk(Array("abc123".utf8))), .success(.status("done"))]
        #expect(run(runner, on: redis) == .success(.status("done")))
        #expect(
            redis.sent == [
                ["EVALSHA", "abc123", "1", "k", "a", "1"], ["SCRIPT", "LOAD", "return ARGV[1]"],
                ["EVALSHA", "abc123", "1", "k", "a", "1"],
            ])
    }

    @Test("a second NOSCRIPT is the caller's failure")
    func secondNoScriptSurfaces() {
        let runner = ScriptRunner(digests: .init())
        runner.digests.remember("abc123", of: script)
        let redis = FakeRedis()
        redis.answers = [.failure(noScript), .failure(.overloaded), .failure(noScript)]
        #expect(run(runner, on: redis) == .failure(noScript))
        #expect(redis.sent.count == 3)
    }

    @Test("other failures are not retried; a failed first load fails the run")
    func otherFailures() {
        let runner = ScriptRunner(digests: .init())
        let redis = FakeRedis()
        redis.answers = [.failure(.timedOut)]
        #expect(run(runner, on: redis) == .failure(.timedOut))
        #expect(redis.sent.count == 1)
        redis.answers = [.success(.bulk(Array("abc123".utf8))), .failure(RedisError(errorReply: "ERR boom"))]
        #expect(run(runner, on: redis) == .failure(RedisError(errorReply: "ERR boom")))
        #expect(redis.sent.count == 3)
        redis.answers = [.success(.integer(1))]
        #expect(run(runner, on: redis) == .success(.integer(1)), "the SHA was learned")
        redis.sent = []
        let fresh = ScriptRunner(digests: .init())
        redis.answers = [.success(.integer(7))]
        #expect(run(fresh, on: redis) == .failure(.unexpectedReply("SCRIPT LOAD answered no SHA")))
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
