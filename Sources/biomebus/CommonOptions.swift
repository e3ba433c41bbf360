import ArgumentParser
import BusDomain
import BusHTTP
import BusLoop
import BusRegions
import BusService
import Foundation
import Logging

/// `--regions DIR`, falling back to `BIOMEBUS_REGIONS`.
struct RegionsOption: ParsableArguments {
    @Option(name: .long, help: "Directory of region files (*.yaml). Env: BIOMEBUS_REGIONS.")
    var regions: String?

    /// Loads and validates every region file, or exits with a one-line error. A command that
    /// runs no consumer passes `.exceptConsumerTuning` (it never judges `consumer.*` values).
    func load(validation: RegionValidation = .full) throws -> RegionCatalog {
        guard let directory = regions ?? ProcessInfo.processInfo.environment["BIOMEBUS_REGIONS"] else {
            throw CLIError("--regions is required (or set BIOMEBUS_REGIONS)")
        }
        do {
            return try RegionCatalog.load(directory: directory, validation: validation)
        } catch {
            throw CLIError(error.description)
        }
    }
}

/// Parses `--listen HOST:PORT`, falling back to `BIOMEBUS_LISTEN`, then to `fallback`.
func listenAddress(_ flag: String?, default fallback: String) throws -> ListenAddress {
    let text = flag ?? ProcessInfo.processInfo.environment["BIOMEBUS_LISTEN"] ?? fallback
    guard let address = ListenAddress(text) else {
        throw CLIError("--listen: expected HOST:PORT (e.g. 127.0.0.1:8080), got \"\(text)\"")
    }
    return address
}

/// The HTTP limits of a service's listeners, with `BIOMEBUS_MAX_CONNECTIONS` and
/// `BIOMEBUS_REQUEST_TIMEOUT_MS` applied.
func httpLimits() throws -> HTTPServerConfiguration {
    do {
        return try HTTPServerConfiguration.standard(environment: ProcessInfo.processInfo.environment)
    } catch {
        throw CLIError(error.description)
    }
}

/// A human, one-line reason to exit non-zero before anything is bound.
struct CLIError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

extension ParsableCommand {
    /// Runs `body`, turning a `CLIError` into one line on stderr and exit code 2.
    func failingCleanly(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("biomebus: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }
}

enum Logs {
    /// Logs go to stderr, one line per event; `BIOMEBUS_LOG_LEVEL` sets the level (default info).
    static let bootstrap: Void = {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            let level = ProcessInfo.processInfo.environment["BIOMEBUS_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
            handler.logLevel = level ?? .info
            return handler
        }
    }()

    static func logger(_ label: String) -> Logger {
        Logs.bootstrap
        return Logger(label: "biomebus.\(label)")
    }
}
