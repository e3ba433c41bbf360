import ArgumentParser
import Logging

@main
struct BiomeBus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "biomebus",
        abstract: "A regional event backbone for treasure-hunt spawns: gateway, consumers, activation.",
        subcommands: [
            GatewayCommand.self, ActivationCommand.self, ConsumerCommand.self, StatusCommand.self, DLQCommand.self,
            MigrateCommand.self, UpCommand.self, DeployCommand.self,
        ]
    )
}
