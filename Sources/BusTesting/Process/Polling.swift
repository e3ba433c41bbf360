import Foundation

/// Waiting for something outside the process (a server answering, a child exiting, a log
/// line): fixtures and startup only, never on an event loop.
package enum Polling {
    /// Polls `condition` every `interval` until it holds; false after `timeout` (the condition
    /// is checked once more at the deadline). Sleeps the calling thread: for synchronous
    /// fixture code only. From async code (every test body: Swift Testing runs them on the
    /// cooperative pool, two threads here) a sleeping thread is one the other tests' tasks
    /// cannot run on.
    @available(*, noasync, message: "sleeps a cooperative thread; use Polling.waitUntilAsync")
    @discardableResult
    package static func waitUntil(
        timeout: Duration = .seconds(10), every interval: Duration = .milliseconds(20), _ condition: () throws -> Bool
    ) rethrows -> Bool {
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) * 1e-18
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: seconds)
        }
        return try condition()
    }

    /// `waitUntil` for async code: sleeps without holding a thread. The condition may be
    /// synchronous (a short `redis-cli` or HTTP call) or async.
    @discardableResult
    package static func waitUntilAsync(
        timeout: Duration = .seconds(10), every interval: Duration = .milliseconds(20),
        _ condition: () async throws -> Bool
    ) async rethrows -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: interval)
        }
        return try await condition()
    }
}
