import ArgumentParser
import BusAuth
import BusDomain
import Foundation

struct AuthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "Credentials for the auth file (--auth FILE).",
        subcommands: [NewClient.self]
    )

    struct NewClient: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new-client",
            abstract:
                "Print a fresh game-server token (line 1) and its spawn.clients entry; nothing is stored.",
            discussion: """
                Give the token to the game server (as a secret) and add the entry under `spawn: clients:` \
                in the auth file. The file holds only the token's SHA-256; the token cannot be shown again.
                """
        )

        @Option(help: "The client's name: 1 to 63 characters from [a-z0-9-].")
        var name: String

        @Option(help: "Regions it may spawn into, comma-separated (default: all, [\"*\"]).")
        var regions: String?

        func run() throws {
            try failingCleanly {
                guard Identifiers.isValidRegionName(name) else {
                    throw CLIError("--name: expected 1 to 63 characters from [a-z0-9-], got \"\(name)\"")
                }
                let names = regions.map { $0.split(separator: ",").map { String($0) } } ?? []
                if regions != nil, names.isEmpty {
                    throw CLIError("--regions: expected region names separated by commas")
                }
                for region in names where !Identifiers.isValidRegionName(region) {
                    throw CLIError("--regions: \"\(region)\" is not a region name ([a-z0-9-]{1,63})")
                }
                let token = ClientTokenMint.newToken()
                print(token)
                print(ClientTokenMint.entry(name: name, token: token, regions: names))
            }
        }
    }
}
