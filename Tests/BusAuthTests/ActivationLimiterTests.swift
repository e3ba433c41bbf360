import BusAuth
import BusDomain
import BusOps
import BusRedis
import BusRegions
import BusTesting
import Testing

/// The token bucket against a real redis-server: the script is the rule, so it is proven
/// where it runs.
@Suite("Activation limits (token bucket in Redis)")
struct ActivationLimiterTests {
    /// One check through the seam's own call, `ActivationLimiter.check(player:on:)`, on a
    /// connection of `redis`'s loop; nil when the limiter let it pass.
    private func check(_ limiter: ActivationLimiter, _ player: String, over redis: BlockingRedis, _ url: String)
        throws -> AuthRefusal?
    {
        let address = try RedisAddress(url: url)
        let outcome: Result<Void, AuthRefusal> = try redis.withConnections([address]) { connections, complete in
            limiter.check(player: player, on: connections[0]) { complete($0) }
        }
        return outcome.refusal
    }

    private func connected(_ server: RedisServerProcess, timeout: Duration = .seconds(2)) throws -> BlockingRedis {
        let redis = BlockingRedis(timeout: timeout)
        _ = try redis.server(try RedisAddress(url: server.url))
        return redis
    }

    @Test("buckets start full, a refused attempt takes no token, Retry-After is whole seconds ≥ 1")
    func burstThenRefuse() throws {
        let redis = try RedisServerProcess.temporary()
        let client = try connected(redis)
        defer { client.close() }
        // So slow a refill that nothing comes back during the test: one token per 1000 s.
        let limiter = ActivationLimiter(limit: BucketLimit(perSecond: 0.001, burst: 3))
        for _ in 0..<3 { #expect(try check(limiter, "p-1", over: client, redis.url) == nil) }
        let tokensBefore = try redis.cli("HGET", ActivationLimiter.key(player: "p-1"), "tokens")
        for _ in 0..<5 {
            let decision = try check(limiter, "p-1", over: client, redis.url)
            guard case .rateLimited(let seconds)? = decision else {
                Issue.record("expected a refusal, got \(String(describing: decision))")
                continue
            }
            #expect(seconds >= 999 && seconds <= 1000)
        }
        #expect(
            try redis.cli("HGET", ActivationLimiter.key(player: "p-1"), "tokens") == tokensBefore,
            "refusals take nothing")
        // Another player's bucket is its own, and full.
        #expect(try check(limiter, "p-2", over: client, redis.url) == nil)
    }

    @Test("a refused attempt does not delay the next token; Retry-After is at least 1 at high rates")
    func refillsAndRetryAfterFloor() async throws {
        let redis = try await RedisServerProcess.temporary()
        let client = try connected(redis)
        defer { client.close() }
        let limiter = ActivationLimiter(limit: BucketLimit(perSecond: 20, burst: 2))
        #expect(try check(limiter, "p-1", over: client, redis.url) == nil)
        #expect(try check(limiter, "p-1", over: client, redis.url) == nil)
        // 20 tokens/s: the wait is 50 ms, but Retry-After is whole seconds, at least 1.
        let refusal = try check(limiter, "p-1", over: client, redis.url)
        #expect(refusal == .rateLimited(retryAfterSeconds: 1))
        #expect(
            await Polling.waitUntilAsync(timeout: .seconds(10)) {
                (try? check(limiter, "p-1", over: client, redis.url)) == .some(nil)
            })
    }

    @Test("one bucket across processes: two connections drain the same bucket")
    func sharedAcrossConnections() throws {
        let redis = try RedisServerProcess.temporary()
        let first = try connected(redis)
        let second = try connected(redis)
        defer {
            first.close()
            second.close()
        }
        let limiter = ActivationLimiter(limit: BucketLimit(perSecond: 0.001, burst: 4))
        var allowed = 0
        for index in 0..<10 where try check(limiter, "p-1", over: index % 2 == 0 ? first : second, redis.url) == nil {
            allowed += 1
        }
        #expect(allowed == 4)
    }

    @Test("Redis down: limiter_unavailable with Retry-After, never a pass")
    func unavailable() throws {
        let redis = try RedisServerProcess.temporary()
        let client = try connected(redis, timeout: .milliseconds(500))
        defer { client.close() }
        let limiter = ActivationLimiter(limit: BucketLimit(perSecond: 1, burst: 1))
        redis.kill()
        let refusal = try check(limiter, "p", over: client, redis.url)
        #expect(refusal == .limiterUnavailable(retryAfterSeconds: 1))
        #expect(refusal?.status == 503 && refusal?.code == "limiter_unavailable")
        #expect(refusal?.headers.first?.name == "Retry-After" && refusal?.headers.first?.value == "1")
        // A reply of an unexpected shape is no pass either.
        #expect(
            ActivationLimiter.outcome(of: .success(.integer(1))).refusal == .limiterUnavailable(retryAfterSeconds: 1))
        let limited = ActivationLimiter.outcome(of: .success(.array([.integer(0), .integer(7)]))).refusal
        #expect(limited == .rateLimited(retryAfterSeconds: 7) && limited?.status == 429)
        #expect(limited?.headers.first?.value == "7" && limited?.code == "rate_limited")
    }
}
