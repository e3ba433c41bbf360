import Dispatch
import Synchronization

/// `EventLoop.waitFor` gave up: the work's completion did not fire within the timeout.
package struct LoopWaitTimedOut: Error, Sendable, Equatable, CustomStringConvertible {
    /// The loop's name.
    package let loop: String
    package let timeout: Duration

    package var description: String { "no answer from loop \(loop) within \(timeout)" }

    package init(loop: String, timeout: Duration) {
        self.loop = loop
        self.timeout = timeout
    }
}

extension EventLoop {
    /// Runs `work` on this loop and blocks the calling thread until `work` calls `complete`, then
    /// returns the value it passed. The one bridge from plain threads (command-line tools, test
    /// threads) to loop-confined objects.
    ///
    /// `complete` may be called within `work` or from a later loop turn (a reply, a timer); only
    /// its first call counts. When it has not been called within `timeout` this throws, and a
    /// later call is ignored. Never call this on the loop's own thread: the loop could not run
    /// `work` while its thread waits, so that is a precondition failure instead of a deadlock.
    package func waitFor<Value: Sendable>(
        timeout: Duration,
        _ work: @escaping @Sendable (_ complete: @escaping @Sendable (Value) -> Void) -> Void
    ) throws(LoopWaitTimedOut) -> Value {
        precondition(!inLoop, "waitFor called on \(name)'s own thread, which would deadlock")
        let handOff = HandOff<Value>()
        execute { work { handOff.fill($0) } }
        guard let value = handOff.take(waitingAtMost: timeout) else {
            throw LoopWaitTimedOut(loop: name, timeout: timeout)
        }
        return value
    }
}

/// A value passed from the loop thread to one waiting thread; the first fill wins.
private final class HandOff<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    private let filled = DispatchSemaphore(value: 0)

    func fill(_ newValue: Value) {
        let isFirst = value.withLock { stored in
            guard stored == nil else { return false }
            stored = newValue
            return true
        }
        if isFirst { filled.signal() }
    }

    func take(waitingAtMost timeout: Duration) -> Value? {
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = max(0, seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let total = nanoseconds.overflow ? Int64.max : nanoseconds.partialValue &+ max(0, attoseconds) / 1_000_000_000
        guard filled.wait(timeout: .now() + .nanoseconds(Int(clamping: total))) == .success else { return nil }
        return value.withLock { $0 }
    }
}
