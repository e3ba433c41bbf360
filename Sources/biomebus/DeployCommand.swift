import ArgumentParser
import BusDeploy
import Foundation

struct DeployCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Deployment helpers: render the per-region Kubernetes objects.",
        subcommands: [Render.self]
    )

    struct Render: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Print the per-region Kubernetes objects (regions ConfigMap, consumer Deployment, KEDA ScaledObject, Redis) as a YAML stream.",
            discussion: """
                Each region gets its own in-cluster Redis (StatefulSet and Service redis-NAME) and the rendered region \
                file says redis://redis-NAME:6379/0, unless --keep-redis keeps the URLs as written (then only regions \
                whose host is already redis-NAME get a Redis). See docs/deploy.md.
                """
        )

        @OptionGroup var regions: RegionsOption

        @Option(help: "The biomebus image the consumers run.")
        var image: String = "biomebus:latest"

        @Option(help: "The namespace written into every object.")
        var namespace: String = "biomebus"

        @Flag(help: "Keep each region's redis URL instead of giving every region its own in-cluster Redis.")
        var keepRedis = false

        @Option(help: "Fewest consumer replicas per region (KEDA minReplicaCount).")
        var minReplicas: Int = 1

        @Option(help: "Most consumer replicas per region (KEDA maxReplicaCount).")
        var maxReplicas: Int = 10

        func run() throws {
            try failingCleanly {
                let catalog = try regions.load()
                var options = DeployOptions()
                options.image = image
                options.namespace = namespace
                options.keepRedis = keepRedis
                options.minReplicas = minReplicas
                options.maxReplicas = maxReplicas
                let text: String
                do {
                    text = try DeployRender.render(catalog, options: options)
                } catch {
                    throw CLIError("\(error)")
                }
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }
}
