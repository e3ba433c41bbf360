import Atomics

/// A process's readiness for one dependency (Postgres), shared by its loops: it follows the
/// latest outcome any loop reported, the moment the loop saw it, so `/readyz` on one loop
/// agrees with what another loop has just served.
///
/// Loops report every outcome (`record`) instead of being sampled: reading it and recording an
/// unchanged outcome are one atomic load, and a change is one atomic exchange, so the loops
/// never block on it. A loop that records an outcome before answering its request makes that
/// outcome visible to any `/readyz` the client sends after reading the answer.
///
/// Members (one per loop) may register a recovery hook: when the signal turns ready, the other
/// members' hooks run, so that a loop still waiting out a reconnect backoff tries again now
/// instead of failing requests the process as a whole could serve.
package final class ReadinessSignal: Sendable {
    private final class Hook: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private let ready: ManagedAtomic<Bool>
    /// Set once per member, before or after its loop starts; read on a change to ready.
    private let hooks: [ManagedAtomicLazyReference<Hook>]

    /// A signal for `members` loops; not ready until the first outcome says so.
    package init(members: Int, ready: Bool = false) {
        self.ready = ManagedAtomic(ready)
        hooks = (0..<members).map { _ in ManagedAtomicLazyReference() }
    }

    /// The latest outcome.
    package var isReady: Bool { ready.load(ordering: .acquiring) }

    /// Records an outcome seen by `member`. Returns true when it changed the signal. On a
    /// change to ready, the other members' recovery hooks run on the calling thread (they
    /// should only hand work to their own loop).
    @discardableResult
    package func record(_ outcome: Bool, from member: Int) -> Bool {
        guard ready.load(ordering: .acquiring) != outcome else { return false }
        guard ready.exchange(outcome, ordering: .acquiringAndReleasing) != outcome else { return false }
        if outcome {
            for (index, hook) in hooks.enumerated() where index != member { hook.load()?.run() }
        }
        return true
    }

    /// Registers what member `member` does when another member sees the dependency come back;
    /// a second registration for the same member is ignored.
    package func onRecovery(member: Int, _ hook: @escaping @Sendable () -> Void) {
        _ = hooks[member].storeIfNilThenLoad(Hook(hook))
    }
}
