import ArgumentParser
import Foundation
import Logging

@main
struct BiomeBus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "biomebus",
        abstract: "A regional event backbone for treasure-hunt spawns: gateway, consumers, activation.",
        subcommands: [
            GatewayCommand.self, ActivationCommand.self, ConsumerCommand.self, StatusCommand.self, DLQCommand.self,
            MigrateCommand.self, UpCommand.self, DeployCommand.self, AuthCommand.self,
        ]
    )

    /// Like ArgumentParser's own `main`, except that a bad flag is one line on stderr (the
    /// contract's "one-line, human error"), not the error plus the usage text. `--help` and
    /// `--version` still print in full.
    static func main() {
        let command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            let code = exitCode(for: error)
            guard code != .success else { exit(withError: error) }
            FileHandle.standardError.write(Data("biomebus: \(message(for: error)) (see --help)\n".utf8))
            Foundation.exit(2)
        }
        do {
            var runnable = command
            try runnable.run()
        } catch {
            exit(withError: error)
        }
    }
}
