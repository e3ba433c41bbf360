import ArgumentParser
import Logging

@main
struct BiomeBus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "biomebus",
        abstract: "A regional event backbone for treasure-hunt spawns: gateway, consumers, activation.",
        subcommands: [GatewayCommand.self, MigrateCommand.self, StatusCommand.self, DLQCommand.self, UpCommand.self]
    )
}
