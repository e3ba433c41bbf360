import BusLoop
import Testing

/// What the timers of one test did, in order; touched only on the loop.
private final class Trace: @unchecked Sendable {
    // @unchecked Sendable: made off the loop, then touched only on the loop's thread.
    var steps: [String] = []
    var calls: [String: LoopTimer] = [:]
}

@Suite("LoopTimer fired after the callbacks pending now: once, in order")
struct LoopTimerPendingCallbacksTests {
    @Test("scheduled from a callback, it runs after the callbacks already pending, and once however often scheduled")
    func afterPendingCallbacks() throws {
        let steps = try withRunningLoop { loop in
            try loop.waitFor(timeout: .seconds(10)) { complete in
                let trace = Trace()
                func call(_ name: String, _ body: @escaping () -> Void = {}) {
                    trace.calls[name] = LoopTimer(loop: loop) {
                        trace.steps.append(name)
                        body()
                    }
                }
                call("gather") { complete(trace.steps) }
                // "first" schedules the gathering call three times, while "second" is already
                // pending: "second" still runs first, and the gathering runs once.
                call("first") {
                    for _ in 0..<3 { trace.calls["gather"]!.fireAfterPendingCallbacks() }
                    #expect(trace.calls["gather"]!.isScheduled)
                }
                call("second")
                trace.calls["first"]!.fireAfterPendingCallbacks()
                trace.calls["second"]!.fireAfterPendingCallbacks()
            }
        }
        #expect(steps == ["first", "second", "gather"])
    }

    @Test("dropped before it ran, it never runs")
    func droppedIsCancelled() throws {
        let steps = try withRunningLoop { loop in
            try loop.waitFor(timeout: .seconds(10)) { complete in
                let trace = Trace()
                trace.calls["dropped"] = LoopTimer(loop: loop) { trace.steps.append("dropped") }
                trace.calls["dropped"]!.fireAfterPendingCallbacks()
                trace.calls["dropped"] = nil
                // Timers run in a later pass than the active events of this one.
                let timer = TimerBox()
                timer.timer = LoopTimer(loop: loop) {
                    timer.timer = nil
                    complete(trace.steps)
                }
                timer.timer?.schedule(after: .milliseconds(20))
            }
        }
        #expect(steps.isEmpty)
    }
}

private final class TimerBox: @unchecked Sendable {
    // @unchecked Sendable: touched only on the loop.
    var timer: LoopTimer?
}
