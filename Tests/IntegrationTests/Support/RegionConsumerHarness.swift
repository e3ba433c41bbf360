import BusConsumer
import BusDomain
import BusLoop
import BusTesting
import Foundation
import Logging

/// A handler the test answers by hand: every call is recorded with its completion, and none
/// completes until the test says so. Loop-confined.
final class HeldHandler: DeliveryHandler {
    private(set) var calls: [(entry: Delivery, completion: (Result<Void, HandlerFailure>) -> Void)] = []

    func handle(_ entry: Delivery, completion: @escaping (Result<Void, HandlerFailure>) -> Void) {
        calls.append((entry, completion))
    }
}

/// A `RegionConsumer` with a `HeldHandler` on its own loop thread, real Redis underneath.
/// The test reaches both only through `onLoop`, which runs on the loop and waits for it.
final class RegionConsumerHarness: @unchecked Sendable {
    // @unchecked Sendable: the consumer and handler are reached only on their loop (LoopBound);
    // `isShutDown` only from the test's thread.
    let loop: EventLoop
    private let thread: LoopThread
    private let consumer: LoopBound<RegionConsumer>
    private let handler: LoopBound<HeldHandler>
    private var isShutDown = false

    init(configuration: RegionConsumer.Configuration) {
        loop = EventLoop(name: "consumer-test")
        let handler = HeldHandler()
        let consumer = RegionConsumer(
            loop: loop, configuration: configuration, handler: handler,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        self.consumer = LoopBound(consumer, loop: loop)
        self.handler = LoopBound(handler, loop: loop)
        thread = LoopThread(loop: loop)
        thread.start()
        onLoop { consumer, _ in consumer.start() }
    }

    deinit {
        shutdown()
    }

    /// Runs `body` on the loop and returns its result once it has run.
    @discardableResult
    func onLoop<T: Sendable>(_ body: @escaping @Sendable (RegionConsumer, HeldHandler) -> T) -> T {
        let consumer = self.consumer
        let handler = self.handler
        return loop.waitForFixture { complete in complete(body(consumer.value, handler.value)) }
    }

    func shutdown() {
        guard !isShutDown else { return }
        isShutDown = true
        let consumer = self.consumer
        let loop = self.loop
        loop.execute {
            consumer.value.close()
            loop.stop()
        }
        thread.join()
    }
}
