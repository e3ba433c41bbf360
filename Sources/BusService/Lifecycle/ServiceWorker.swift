import BusHTTP
import BusLoop

/// One loop's share of a service, driven by `ServiceHost`.
///
/// The host builds it on its own thread before the loop runs (so binding can fail
/// synchronously); from `start()` on only its loop touches it. Shutdown is `drain` then
/// `close`, each exactly once: `close` runs when the drain finished or its timeout passed,
/// whichever comes first.
package protocol ServiceWorker: AnyObject {
    /// Binds the worker's listener (called only when the service listens); returns the port.
    func bind(_ address: ListenAddress) throws(BindError) -> Int
    /// Runs on the worker's loop when it starts: open connections, schedule timers.
    func start()
    /// Stops taking new work and calls `done` once the work in flight has finished. On the loop.
    func drain(then done: @escaping () -> Void)
    /// Closes listeners, connections and timers, and breaks reference cycles. On the loop.
    func close()
}

extension ServiceWorker {
    /// Workers without a listener never bind.
    package func bind(_ address: ListenAddress) throws(BindError) -> Int {
        preconditionFailure("\(Self.self) has no listener")
    }
}
