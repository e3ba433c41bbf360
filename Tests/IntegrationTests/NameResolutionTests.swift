import BusLoop
import BusPostgres
import BusTesting
import Foundation
import Synchronization
import Testing

/// Runs `body` on `loop`'s thread and waits for it. For checks that poll loop-confined state.
private func onLoop<T: Sendable>(_ loop: EventLoop, _ body: @escaping @Sendable () -> T) -> T {
    loop.waitForFixture { complete in complete(body()) }
}

/// A loop on its own thread, stopped and joined on release.
private final class RunningLoop: @unchecked Sendable {
    // @unchecked Sendable: the loop is Sendable; `thread` is touched only in init and deinit.
    let loop: EventLoop
    private let thread: LoopThread

    init(resolvConf: URL? = nil, setUp: (EventLoop) -> Void = { _ in }) {
        loop = EventLoop(name: "dns-test")
        if let resolvConf { loop.resolverConfiguration = NameResolver.Configuration(resolvConfPath: resolvConf.path) }
        // Before the loop runs, this thread may set up its objects.
        setUp(loop)
        thread = LoopThread(loop: loop)
        thread.start()
    }

    deinit {
        loop.stop()
        thread.join()
    }
}

/// A lookup's outcome, written on the loop and read by the test.
private final class Outcome: Sendable {
    let result = Mutex<Result<[String], NameResolutionError>?>(nil)
    let synchronous = Mutex<Bool?>(nil)
    var value: Result<[String], NameResolutionError>? { result.withLock { $0 } }
}

@Suite("Name lookups on the loop (evdns): never blocking, always bounded")
struct NameResolutionTests {
    @Test("numeric addresses and /etc/hosts names answer at once, without a nameserver")
    func immediateAnswers() throws {
        let nameserver = try StalledNameserver()
        let running = RunningLoop(resolvConf: nameserver.resolvConf)
        for (host, expected) in [("127.0.0.1", ["127.0.0.1"]), ("::1", ["::1"]), ("localhost", ["127.0.0.1"])] {
            let outcome = Outcome()
            let loop = running.loop
            _ = onLoop(loop) {
                var returned = false
                loop.nameResolver.resolve(host, timeout: .seconds(5)) { result in
                    outcome.synchronous.withLock { $0 = !returned }
                    outcome.result.withLock { $0 = result }
                }
                returned = true
                return true
            }
            // A hosts file may also list ::1 for localhost; IPv4 comes first.
            #expect(try outcome.value?.get().prefix(1) == expected[...], "\(host)")
            #expect(outcome.synchronous.withLock { $0 } == true, "\(host)")
        }
        #expect(nameserver.queries == 0)
    }

    @Test("a nameserver that never answers ends in .timedOut while the loop keeps running")
    func stalledLookupTimesOut() async throws {
        let nameserver = try StalledNameserver()
        let running = RunningLoop(resolvConf: nameserver.resolvConf)
        let loop = running.loop
        let outcome = Outcome()
        let ticksDuringLookup = Mutex(0)
        _ = onLoop(loop) {
            loop.nameResolver.resolve("redis.stalled.test", timeout: .milliseconds(600)) { result in
                outcome.result.withLock { $0 = result }
            }
            return true
        }
        // The loop runs other work while the lookup waits on the nameserver.
        #expect(await Polling.waitUntilAsync { nameserver.queries >= 1 })
        let stillPending = onLoop(loop) {
            ticksDuringLookup.withLock { $0 += 1 }
            return outcome.value == nil
        }
        #expect(stillPending)
        #expect(await Polling.waitUntilAsync { outcome.value != nil })
        #expect(outcome.value == .failure(.timedOut(host: "redis.stalled.test", after: .milliseconds(600))))
        #expect(ticksDuringLookup.withLock { $0 } == 1)
    }

    @Test("a cancelled lookup never calls back")
    func cancelled() async throws {
        let nameserver = try StalledNameserver()
        let running = RunningLoop(resolvConf: nameserver.resolvConf)
        let loop = running.loop
        let outcome = Outcome()
        _ = onLoop(loop) {
            let lookup = loop.nameResolver.resolve("db.stalled.test", timeout: .milliseconds(200)) { result in
                outcome.result.withLock { $0 = result }
            }
            lookup.cancel()
            lookup.cancel()
            return true
        }
        #expect(await Polling.waitUntilAsync { nameserver.queries >= 1 })
        // Past the lookup's timeout, polled through the loop: still nothing.
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(400)
        await Polling.waitUntilAsync(timeout: .seconds(2)) { clock.now >= deadline && onLoop(loop) { true } }
        #expect(outcome.value == nil)
    }

    @Test("a lookup cancelled as its loop stops is released with the loop, not leaked")
    func cancelledAtShutdownIsReleased() throws {
        final class WeakReference: @unchecked Sendable {
            // @unchecked Sendable: written on the loop, read after the loop's thread has ended.
            weak var lookup: NameLookup?
            weak var loop: EventLoop?
        }
        let nameserver = try StalledNameserver()
        let reference = WeakReference()
        do {
            let running = RunningLoop(resolvConf: nameserver.resolvConf)
            let loop = running.loop
            reference.loop = loop
            onLoop(loop) {
                let lookup = loop.nameResolver.resolve("gone.stalled.test", timeout: .seconds(5)) { _ in }
                reference.lookup = lookup
                // Cancel and stop in one callback: evdns's cancel answer is still queued when
                // the loop stops.
                lookup.cancel()
                loop.stop()
            }
        }
        // Compared outside #expect: describing a leaked lookup would read its unowned loop.
        let loopReleased = reference.loop == nil
        let lookupReleased = reference.lookup == nil
        #expect(loopReleased)
        #expect(lookupReleased)
    }

    @Test("Postgres: a host name that never resolves is a failed connect within the connect timeout")
    func postgresStalledName() async throws {
        let nameserver = try StalledNameserver()
        let connectionBox = Mutex<LoopBound<PostgresConnection>?>(nil)
        let running = RunningLoop(resolvConf: nameserver.resolvConf) { loop in
            var configuration = PostgresConfiguration(url: "postgresql://app:PgS3cret@db.stalled.test:5432/x")
            configuration.connectTimeout = .milliseconds(500)
            configuration.reconnectBackoff = ReconnectBackoff(initial: .seconds(30), maximum: .seconds(30))
            let connection = PostgresConnection(loop: loop, configuration: configuration)
            connection.start()
            connectionBox.withLock { $0 = LoopBound(connection, loop: loop) }
        }
        let connection = try #require(connectionBox.withLock { $0 })
        defer { onLoop(running.loop) { connection.value.close() } }
        #expect(await Polling.waitUntilAsync { nameserver.queries >= 1 })
        // The loop answers while the lookup hangs.
        #expect(onLoop(running.loop) { connection.value.lastError == nil })
        #expect(await Polling.waitUntilAsync { onLoop(running.loop) { connection.value.lastError != nil } })
        let error = onLoop(running.loop) { connection.value.lastError ?? "" }
        #expect(error.contains("db.stalled.test"), "\(error)")
        #expect(error.contains("timed out"), "\(error)")
        #expect(!error.contains("PgS3cret"))
    }

    @Test("Postgres: lastError (what /readyz shows) never quotes a password, even from libpq's parser")
    func postgresErrorsAreRedacted() async throws {
        let connectionBox = Mutex<LoopBound<PostgresConnection>?>(nil)
        let running = RunningLoop { loop in
            // libpq's own message quotes the bad token: the password.
            var configuration = PostgresConfiguration(url: "postgresql://app:Pg%zzS3cret@127.0.0.1:1/x")
            configuration.reconnectBackoff = ReconnectBackoff(initial: .seconds(30), maximum: .seconds(30))
            let connection = PostgresConnection(loop: loop, configuration: configuration)
            connection.start()
            connectionBox.withLock { $0 = LoopBound(connection, loop: loop) }
        }
        let connection = try #require(connectionBox.withLock { $0 })
        defer { onLoop(running.loop) { connection.value.close() } }
        #expect(await Polling.waitUntilAsync { onLoop(running.loop) { connection.value.lastError != nil } })
        let error = onLoop(running.loop) { connection.value.lastError ?? "" }
        #expect(error.contains("percent-encoded"), "\(error)")
        #expect(!error.contains("S3cret"), "\(error)")
    }

    @Test("Postgres: localhost (from /etc/hosts) connects through hostaddr")
    func postgresLocalhost() async throws {
        let server = try await PostgresCluster.shared()
        var connection = PostgresConfiguration(
            url: "postgresql://postgres@localhost:\(server.port)/\(server.database)?application_name=dns-localhost")
        connection.connectTimeout = .seconds(5)
        let harness = PostgresHarness(
            configuration: PostgresPoolConfiguration(connection: connection, maxConnections: 1))
        defer { harness.shutdown() }
        let result = await harness.query("SELECT inet_server_addr()::text AS address")
        #expect(try result.get().first?.string("address") == "127.0.0.1/32")
    }
}
