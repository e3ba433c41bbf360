import BusLoop
import BusRedis
import BusTesting
import Foundation
import Synchronization
import Testing

/// A loop on its own thread, stopped and joined on release.
private final class LoopOnThread: @unchecked Sendable {
    // @unchecked Sendable: the loop is Sendable; `thread` is touched only in init and deinit.
    let loop = EventLoop(name: "redis-connect-test")
    private let thread: LoopThread

    init() {
        thread = LoopThread(loop: loop)
        thread.start()
    }

    deinit {
        loop.stop()
        thread.join()
    }
}

@Suite("Redis connection: commands sent while it connects")
struct RedisConnectTests {
    /// Starts a connection to `port` and sends PING in the same loop pass; returns its outcome.
    private func pingRightAfterStart(port: Int) -> Result<RedisReply, RedisError> {
        let running = LoopOnThread()
        let loop = running.loop
        return loop.waitForFixture(timeout: .seconds(5)) { complete in
            let connection = RedisConnection(
                loop: loop, configuration: RedisConnectionConfiguration(host: "127.0.0.1", port: port))
            connection.start()
            connection.send(RedisCommand("PING")) { result in
                connection.close()
                complete(result)
            }
        }
    }

    @Test("a command sent during the first connect attempt waits for it and is answered")
    func heldUntilReady() throws {
        let redis = try RedisServerProcess.temporary()
        guard case .success(let reply) = pingRightAfterStart(port: redis.port) else {
            Issue.record("PING sent while connecting failed instead of waiting for the connection")
            return
        }
        #expect(reply.string == "PONG")
    }

    @Test("a command held for a connect that fails gets .unavailable, not a hang")
    func heldThenRefused() {
        let result = pingRightAfterStart(port: LoopbackPorts.freePort())
        #expect(throws: RedisError.unavailable) { try result.get() }
    }
}
