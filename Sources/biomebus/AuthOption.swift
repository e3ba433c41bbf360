import ArgumentParser
import BusAuth
import Foundation
import Logging

/// `--auth FILE`, falling back to `BIOMEBUS_AUTH`: who may spawn, who may open chests.
struct AuthOption: ParsableArguments {
    @Option(
        name: .long,
        help: "Auth file (YAML): spawn clients, player JWT keys, limits, receipts. Env: BIOMEBUS_AUTH. Default: open.")
    var auth: String?

    var path: String? { auth ?? ProcessInfo.processInfo.environment["BIOMEBUS_AUTH"] }

    /// The loaded file, or nil without one. A bad file is a one-line error naming file and key
    /// (exit 2). `regionNames`: the regions clients may name (nil: not judged).
    func load(regionNames: Set<String>?) throws -> AuthFile? {
        guard let path else { return nil }
        do {
            return try AuthFile.load(path: path, regionNames: regionNames)
        } catch {
            throw CLIError(error.description)
        }
    }
}

/// The one warning line of a service that runs without auth (contract, "Authentication").
func warnRunningOpen(_ service: String, what: String, logger: Logger) {
    logger.warning("\(service) running open, without --auth: \(what)")
}
