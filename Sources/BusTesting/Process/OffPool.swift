import Dispatch

/// Runs blocking fixture work (starting a server, `pg_ctl stop`, waiting for a child to exit)
/// where it cannot starve async code: on a dispatch thread of its own, while the calling task
/// is suspended. Swift's cooperative pool has one thread per core (two here); a test that
/// blocked one of them for seconds would delay every other test's tasks by as much.
///
/// A serial queue of its own per call targets an overcommitting root queue, so the work gets
/// a fresh thread rather than waiting for one. libdispatch threads block asynchronous signals,
/// which `ChildProcess` needs of every thread (SIGCHLD must reach Foundation's signalfd).
package enum OffPool {
    /// `work`'s result (or error), computed on a thread outside the cooperative pool.
    package static func run<Value: Sendable, Failure: Error>(
        _ work: @escaping @Sendable () throws(Failure) -> Value
    ) async throws(Failure) -> Value {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<Value, Failure>, Never>) in
            DispatchQueue(label: "biomebus.fixture").async {
                continuation.resume(returning: Result { () throws(Failure) -> Value in try work() })
            }
        }
        return try result.get()
    }
}
