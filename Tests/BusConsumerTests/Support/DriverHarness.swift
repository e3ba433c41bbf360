import BusDomain
import BusLoop
import BusRegions
import BusTesting
import Logging

@testable import BusConsumer

/// A handler the test answers by hand: every call is recorded with its completion, and none
/// completes until the test says so. Loop-confined.
final class HeldHandler: DeliveryHandler {
    private(set) var calls: [(entry: Delivery, completion: (Result<Void, HandlerFailure>) -> Void)] = []

    func handle(_ entry: Delivery, completion: @escaping (Result<Void, HandlerFailure>) -> Void) {
        calls.append((entry, completion))
    }
}

/// The driver under test with its fakes, all on one loop.
final class DriverParts {
    let consumer: RegionConsumer
    let handler = HeldHandler()
    let reads = FakeStreamsConnection()
    let commands = FakeStreamsConnection()
    /// How often `stop`'s completion ran.
    var finished = 0

    init(loop: EventLoop, configuration: RegionConsumer.Configuration) {
        consumer = RegionConsumer(
            loop: loop, configuration: configuration, handler: handler,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            connections: (reads: reads, commands: commands))
    }

    /// Both connections up: the group creation goes out.
    func connect() {
        reads.setReady(true)
        commands.setReady(true)
    }

    /// Both connections up and every group created: the first read goes out.
    func connectAndCreateGroups() {
        connect()
        while commands.answer("XGROUP", .success(.status("OK"))) != nil {}
    }

    /// Nothing held, and no record or timer left behind.
    var isSettled: Bool {
        consumer.inFlight == 0 && consumer.entries.isEmpty
    }
}

/// A `RegionConsumer` on fake connections on its own loop thread (real timers). The test
/// reaches the parts only through `onLoop`, which runs on the loop and waits for it.
final class DriverHarness: @unchecked Sendable {
    // @unchecked Sendable: the parts are reached only on their loop (LoopBound).
    let loop: EventLoop
    private let thread: LoopThread
    private let parts: LoopBound<DriverParts>

    /// One region "test" on biomes `biomes`; `tune` adjusts the configuration first.
    init(biomes: [Int] = [1], tune: (inout RegionConsumer.Configuration) -> Void = { _ in }) {
        var region = RegionConfig(
            name: "test", redis: RedisAddress(host: "127.0.0.1"), biomes: biomes.map { BiomeID(Int64($0))! })
        region.consumer.blockMs = 100
        region.consumer.claimIdleMs = 1000
        region.consumer.backoff = BackoffPolicy(initialMs: 10, multiplier: 2, maxMs: 10, jitter: 0)
        var configuration = RegionConsumer.Configuration(
            region: region, biomes: region.biomes, consumerName: "me")
        // Reclaims only where a test asks for them.
        configuration.reclaimInterval = .seconds(3600)
        configuration.redisRetryBackoff = ReconnectBackoff(initial: .milliseconds(10), maximum: .milliseconds(20))
        tune(&configuration)
        loop = EventLoop(name: "driver-test")
        parts = LoopBound(DriverParts(loop: loop, configuration: configuration), loop: loop)
        thread = LoopThread(loop: loop)
        thread.start()
        onLoop { $0.consumer.start() }
    }

    deinit {
        let parts = self.parts
        let loop = self.loop
        loop.execute {
            parts.value.consumer.close()
            loop.stop()
        }
        thread.join()
    }

    /// Runs `body` on the loop and returns its result once it has run.
    @discardableResult
    func onLoop<T: Sendable>(_ body: @escaping @Sendable (DriverParts) -> T) -> T {
        let parts = self.parts
        do {
            return try loop.waitFor(timeout: .seconds(10)) { complete in complete(body(parts.value)) }
        } catch {
            preconditionFailure("the driver's loop did not answer: \(error)")
        }
    }

    /// Polls `condition` on the loop until it holds (timers fire in between); false after 5 s.
    func eventually(_ condition: @escaping @Sendable (DriverParts) -> Bool) -> Bool {
        Polling.waitUntil(timeout: .seconds(5), every: .milliseconds(5)) { onLoop(condition) }
    }

    /// The words of the command `name` once it waits on the command connection (timers may
    /// have to fire first); nil if it never comes.
    func command(_ name: String) -> [String]? {
        guard eventually({ $0.commands.waitingCommand(name) != nil }) else { return nil }
        return onLoop { $0.commands.waitingCommand(name) }
    }
}
