import BusLoop

extension EventLoop {
    /// `waitFor` for fixtures and tests whose loop work always completes (reading or poking
    /// loop-confined state): no answer within `timeout` means the loop is stuck, which stops
    /// the run with that reason instead of hanging it.
    package func waitForFixture<Value: Sendable>(
        timeout: Duration = .seconds(30),
        _ work: @escaping @Sendable (_ complete: @escaping @Sendable (Value) -> Void) -> Void
    ) -> Value {
        do {
            return try waitFor(timeout: timeout, work)
        } catch {
            fatalError("\(error): the loop is stuck")
        }
    }
}
