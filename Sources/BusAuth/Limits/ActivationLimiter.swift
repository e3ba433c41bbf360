import BusRedis
import BusStreams

/// What one bucket check decided.
package enum LimitDecision: Sendable, Equatable {
    /// A token was taken; go on.
    case allowed
    /// The bucket is empty; nothing was taken. Retry after this many whole seconds (≥ 1).
    case refused(retryAfterSeconds: Int)
}

/// Per-player activation limits: one token bucket per player in Redis, shared by every
/// activation process, checked and updated by one atomic script per activation.
package struct ActivationLimiter: Sendable {
    /// `Retry-After` when the limiter's Redis does not answer.
    package static let unavailableRetryAfterSeconds = 1

    /// The bucket's rate and size.
    package let limit: BucketLimit

    package init(limit: BucketLimit) { self.limit = limit }

    /// The bucket's key: one per player.
    package static func key(player: String) -> String { "RATELIMIT:activate:\(player)" }

    /// The script's arguments for this limit.
    package var arguments: [RedisArgument] {
        [.string(String(limit.perSecond)), .integer(Int64(limit.burst))]
    }

    /// Runs the check for `player` on `connection` (its loop; the connection's command timeout
    /// bounds it). `completion` gets the decision, or the refusal to send: `429 rate_limited`
    /// or `503 limiter_unavailable`, never a silent pass.
    package func check(
        player: String, on connection: RedisConnection, _ completion: @escaping (Result<Void, AuthRefusal>) -> Void
    ) {
        connection.run(LimitScripts.tokenBucket, keys: [Self.key(player: player)], arguments: arguments) { result in
            completion(Self.outcome(of: result))
        }
    }

    /// The refusal (or pass) for one script result.
    package static func outcome(of result: Result<RedisReply, RedisError>) -> Result<Void, AuthRefusal> {
        switch result.map(decision(from:)) {
        case .success(.allowed?): .success(())
        case .success(.refused(let seconds)?): .failure(.rateLimited(retryAfterSeconds: seconds))
        case .success(nil), .failure:
            .failure(.limiterUnavailable(retryAfterSeconds: unavailableRetryAfterSeconds))
        }
    }

    /// Reads the script's reply `{1, 0}` or `{0, seconds}`; nil for anything else.
    package static func decision(from reply: RedisReply) -> LimitDecision? {
        guard let items = reply.array, items.count == 2, let allowed = items[0].integer, let wait = items[1].integer
        else { return nil }
        return allowed == 1 ? .allowed : .refused(retryAfterSeconds: max(1, Int(wait)))
    }
}

/// The rate-limit scripts.
package enum LimitScripts {
    /// A token bucket: checks and takes one token in one atomic step.
    /// KEYS: the bucket. ARGV: tokens per second, burst.
    /// Answers `{1, 0}` (taken) or `{0, retry_after_seconds}` (refused, nothing taken).
    ///
    /// The clock is the server's `TIME`, so activation processes on hosts whose clocks differ
    /// share one notion of now. A missing bucket is full (buckets start full; an idle bucket
    /// expires once it would have refilled, which is the same thing). State: `tokens` (a
    /// fraction) and `at` (ms) in a hash. A refused attempt writes nothing.
    package static let tokenBucket = RedisScript(
        name: "token-bucket", keyCount: 1,
        source: """
            local rate = tonumber(ARGV[1])
            local burst = tonumber(ARGV[2])
            local clock = redis.call('TIME')
            local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
            local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
            local tokens = tonumber(state[1])
            local at = tonumber(state[2])
            if tokens == nil or at == nil then
              tokens = burst
              at = now
            end
            if now > at then
              tokens = math.min(burst, tokens + (now - at) * rate / 1000)
              at = now
            end
            if tokens >= 1 then
              tokens = tokens - 1
              redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', string.format('%d', at))
              redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
              return {1, 0}
            end
            local wait = math.ceil((1 - tokens) / rate)
            if wait < 1 then wait = 1 end
            return {0, wait}
            """)
}
