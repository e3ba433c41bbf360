import BusDomain
import BusRegions
import BusService
import Logging
import Synchronization

/// Whether each region's Redis answers, for `/readyz` and the "region up/down" log lines.
///
/// A region follows the latest outcome any loop's connection to it reported, the moment it was
/// reported: ready as soon as one connection becomes usable, not ready as soon as one fails.
/// So `/readyz`, on whichever loop it lands, agrees with the spawn answer a loop has just
/// given. When a region comes back, the other loops' connections to it retry at once (their
/// recovery hooks) rather than after their backoff.
final class RegionReadiness: Sendable {
    private struct State {
        /// Per region, the latest outcome.
        var ready: [Bool]
        /// Per region, what was last logged (nil: nothing yet).
        var announced: [Bool?]
        /// Per region, the latest connection error any loop saw.
        var errors: [String?]
        /// Per loop, what to do when a region comes back.
        var recovery: [(@Sendable (_ region: Int) -> Void)?]
    }

    /// Locked only when a connection changes state, never per request.
    private let state: Mutex<State>
    private let catalog: RegionCatalog
    private let logger: Logger

    init(catalog: RegionCatalog, loops: Int, logger: Logger) {
        self.catalog = catalog
        self.logger = logger
        state = Mutex(
            State(
                ready: Array(repeating: false, count: catalog.regions.count),
                announced: Array(repeating: nil, count: catalog.regions.count),
                errors: Array(repeating: nil, count: catalog.regions.count),
                recovery: Array(repeating: nil, count: loops)))
    }

    /// Registers what loop `loop` does when another loop sees a region come back.
    func onRecovery(loop: Int, _ hook: @escaping @Sendable (_ region: Int) -> Void) {
        state.withLock { $0.recovery[loop] = hook }
    }

    /// Loop `loop`'s connection for `region` became usable, or failed.
    func connection(forRegion region: Int, loop: Int, ready: Bool, error: String?) {
        let (change, others) = state.withLock { state -> (Bool?, [@Sendable (Int) -> Void]) in
            if !ready { state.errors[region] = error }
            let changed = state.ready[region] != ready
            state.ready[region] = ready
            let others =
                changed && ready ? state.recovery.indices.filter { $0 != loop }.compactMap { state.recovery[$0] } : []
            guard state.announced[region] != ready else { return (nil, others) }
            state.announced[region] = ready
            return (ready, others)
        }
        for hook in others { hook(region) }
        let config = catalog.regions[region]
        switch change {
        case true?:
            logger.info("region up", metadata: ["region": "\(config.name)", "redis": "\(config.redis)"])
        case false?:
            logger.warning(
                "region down",
                metadata: ["region": "\(config.name)", "redis": "\(config.redis)", "error": "\(error ?? "unknown")"])
        case nil:
            break
        }
    }

    /// Regions whose latest outcome is not ready, with the latest error: what `/readyz`
    /// reports. Locks briefly; never called per spawn.
    func report() -> ReadinessReport {
        let down = state.withLock { state in
            catalog.regions.indices.filter { !state.ready[$0] }.map {
                ReadinessReport.Unreachable(
                    name: catalog.regions[$0].name, address: catalog.regions[$0].redis.description,
                    error: state.errors[$0] ?? "connecting")
            }
        }
        var report = ReadinessReport()
        report.add(.regions, down)
        return report
    }
}
