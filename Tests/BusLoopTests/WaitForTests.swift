import BusLoop
import Synchronization
import Testing

@Suite("EventLoop.waitFor: the blocking bridge from plain threads")
struct WaitForTests {
    @Test("work that completes synchronously hands its value back")
    func synchronousCompletion() throws {
        try withRunningLoop { loop throws in
            #expect(try loop.waitFor(timeout: .seconds(10)) { complete in complete(loop.inLoop) })
        }
    }

    @Test("a completion fired on a later loop turn is waited for")
    func laterTurnCompletion() throws {
        let answer = try withRunningLoop { loop in
            try loop.waitFor(timeout: .seconds(10)) { complete in
                // Re-queued twice: the completion fires two loop passes after the work ran.
                loop.execute { loop.execute { complete("two turns later") } }
            }
        }
        #expect(answer == "two turns later")
    }

    @Test("a completion from a timer is waited for")
    func timerCompletion() throws {
        let fired = try withRunningLoop { loop in
            try loop.waitFor(timeout: .seconds(10)) { complete in
                // The timer keeps itself alive until it fires: its own callback holds it.
                let holder = TimerHolder()
                holder.timer = LoopTimer(loop: loop) {
                    holder.timer = nil
                    complete("fired")
                }
                holder.timer?.schedule(after: .milliseconds(20))
            }
        }
        #expect(fired == "fired")
    }

    @Test("only the first completion counts")
    func firstCompletionWins() throws {
        let value = try withRunningLoop { loop in
            try loop.waitFor(timeout: .seconds(10)) { complete in
                complete(1)
                complete(2)
            }
        }
        #expect(value == 1)
    }

    @Test("work that never completes times out, and its late completion is ignored")
    func timesOut() throws {
        try withRunningLoop(name: "wait-test") { loop in
            let kept = KeptCompletion()
            #expect(throws: LoopWaitTimedOut(loop: "wait-test", timeout: .milliseconds(50))) {
                try loop.waitFor(timeout: .milliseconds(50)) { complete in kept.complete.withLock { $0 = complete } }
            }
            let late = try #require(kept.complete.withLock { $0 })
            late(7)
            // The loop still serves the next call.
            #expect(try loop.waitFor(timeout: .seconds(10)) { complete in complete(8) } == 8)
        }
    }

    @Test("called on the loop's own thread it refuses instead of deadlocking")
    func refusesOnItsOwnLoop() async {
        await #expect(processExitsWith: .failure) {
            let loop = EventLoop(name: "refusal")
            loop.execute {
                _ = try? loop.waitFor(timeout: .seconds(1)) { complete in complete(0) }
                loop.stop()
            }
            loop.run()
        }
    }
}

/// Holds a loop-confined timer from inside its own callback.
private final class TimerHolder: @unchecked Sendable {
    // @unchecked Sendable: touched only on the loop.
    var timer: LoopTimer?
}

/// A completion the test keeps to call after `waitFor` gave up.
private final class KeptCompletion: Sendable {
    let complete = Mutex<(@Sendable (Int) -> Void)?>(nil)
}
