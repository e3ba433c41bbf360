import BusRedis

@testable import BusConsumer
@testable import BusStreams

/// A Redis connection the test answers by hand: every command is recorded as its words and
/// waits until the test answers it. Scripts go through `ScriptRunner` as on a real connection;
/// an `EVALSHA` is recorded with the script's name in place of its SHA (`EVALSHA <name> …`),
/// and a `SCRIPT LOAD` is answered at once. Loop-confined.
final class FakeStreamsConnection: StreamsConnection {
    typealias Completion = (Result<RedisReply, RedisError>) -> Void

    private(set) var isReady = false
    var lastError: String?
    var onReadinessChange: ((Bool) -> Void)?
    private(set) var isStarted = false
    private(set) var isClosed = false
    /// Every command sent (SCRIPT LOAD left out), oldest first.
    private(set) var sent: [[String]] = []
    private var waiting: [(words: [String], completion: Completion)] = []

    func start() { isStarted = true }

    /// Like `RedisConnection.close`: not ready any more, and what waits fails at once.
    func close() {
        isClosed = true
        setReady(false)
        let failed = waiting
        waiting = []
        for command in failed { command.completion(.failure(.disconnected)) }
    }

    func send(_ command: RedisCommand, _ completion: @escaping Completion) {
        var words = command.words
        if words.starts(with: ["SCRIPT", "LOAD"]) {
            return completion(.success(.bulk(Array(RedisScript(name: "", keyCount: 0, source: words[2]).sha.utf8))))
        }
        if words.first == "EVALSHA", let script = Self.scripts.first(where: { $0.sha == words[1] }) {
            words[1] = script.name
        }
        sent.append(words)
        waiting.append((words, completion))
    }

    func run(
        _ script: RedisScript, keys: [String], arguments: [RedisArgument],
        _ completion: @escaping (Result<RedisReply, RedisError>) -> Void
    ) {
        ScriptRunner.run(script, keys: keys, arguments: arguments, send: { self.send($0, $1) }, completion)
    }

    func setReady(_ ready: Bool) {
        guard ready != isReady else { return }
        isReady = ready
        onReadinessChange?(ready)
    }

    /// What waits for an answer, by name: the command's first word, a script's name for EVALSHA.
    var waitingNames: [String] { waiting.map { Self.name(of: $0.words) } }

    /// The words of the oldest command named `name` still waiting.
    func waitingCommand(_ name: String) -> [String]? {
        waiting.first { Self.name(of: $0.words) == name }?.words
    }

    /// Answers the oldest command named `name` (see `waitingNames`); returns its words.
    @discardableResult
    func answer(_ name: String, _ result: Result<RedisReply, RedisError>) -> [String]? {
        guard let index = waiting.firstIndex(where: { Self.name(of: $0.words) == name }) else { return nil }
        let command = waiting.remove(at: index)
        command.completion(result)
        return command.words
    }

    private static let scripts = [
        StreamScripts.deadLetter, StreamScripts.claimIfOwned, StreamScripts.removeGoneConsumers,
        StreamScripts.replayDeadLetter,
    ]

    private static func name(of words: [String]) -> String {
        words.first == "EVALSHA" ? words[1] : words[0]
    }
}

/// Replies as Redis shapes them, for scripting the fake.
enum Reply {
    static func bulk(_ text: String) -> RedisReply { .bulk(Array(text.utf8)) }

    /// `[id, [field, value, …]]`, fields in name order.
    static func entry(_ id: String, _ fields: [String: String]) -> RedisReply {
        .array([bulk(id), .array(fields.sorted { $0.key < $1.key }.flatMap { [bulk($0.key), bulk($0.value)] })])
    }

    /// XREADGROUP's `[[stream, [entry, …]], …]`.
    static func read(_ streams: [(String, [RedisReply])]) -> RedisReply {
        .array(streams.map { .array([bulk($0.0), .array($0.1)]) })
    }

    /// XAUTOCLAIM's `[cursor, [entry, …], [deleted id, …]]`.
    static func autoClaim(cursor: String, _ entries: [RedisReply], deleted: [String] = []) -> RedisReply {
        .array([bulk(cursor), .array(entries), .array(deleted.map(bulk))])
    }

    /// One extended XPENDING row.
    static func pending(_ id: String, consumer: String, deliveries: Int) -> RedisReply {
        .array([.array([bulk(id), bulk(consumer), .integer(5000), .integer(Int64(deliveries))])])
    }
}
