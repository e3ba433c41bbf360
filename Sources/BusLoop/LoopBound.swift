/// Carries a loop-confined value across threads so that only its loop touches it.
///
/// The value may be created on any thread before its loop runs; afterwards `value` traps in
/// debug builds when read off the loop's thread. Hand it to `EventLoop.execute` to act on it.
package struct LoopBound<Value>: @unchecked Sendable {
    // @unchecked Sendable: access to `storage` is checked against the owning loop.
    private let storage: Value

    /// The loop that owns the value.
    package let loop: EventLoop

    package init(_ value: Value, loop: EventLoop) {
        self.storage = value
        self.loop = loop
    }

    /// The value; only on the loop's thread (or before the loop has started).
    package var value: Value {
        loop.assertInLoop()
        return storage
    }
}
