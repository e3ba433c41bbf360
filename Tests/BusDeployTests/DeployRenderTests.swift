import BusDomain
import BusRegions
import Foundation
import Testing
import Yams

@testable import BusDeploy

/// The repository root, found from this file's path (Tests/BusDeployTests/…).
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

private func repositoryFile(_ path: String) throws -> String {
    try String(contentsOf: repositoryRoot.appendingPathComponent(path), encoding: .utf8)
}

private func sampleCatalog() throws -> RegionCatalog {
    try RegionCatalog.load(directory: repositoryRoot.appendingPathComponent("regions").path)
}

/// The rendered stream parsed back, one dictionary per object.
private func parse(_ text: String) throws -> [[String: Any]] {
    try Yams.load_all(yaml: text).map { try #require($0 as? [String: Any]) }
}

private func objects(_ all: [[String: Any]], kind: String) -> [[String: Any]] {
    all.filter { $0["kind"] as? String == kind }
}

private func name(_ object: [String: Any]) -> String? {
    (object["metadata"] as? [String: Any])?["name"] as? String
}

private func dig(_ value: Any?, _ path: String...) -> Any? {
    var current = value
    for key in path {
        if let index = Int(key), let list = current as? [Any] {
            current = index < list.count ? list[index] : nil
        } else {
            current = (current as? [String: Any])?[key]
        }
    }
    return current
}

private func region(_ name: String, biomes: [Int64], redis: String = "redis://10.1.2.3:6380/2") throws -> RegionConfig {
    RegionConfig(name: name, redis: try RedisAddress(url: redis), biomes: biomes.map { BiomeID($0)! })
}

@Suite("deploy render: per-region Kubernetes objects")
struct DeployRenderTests {
    @Test("every sample region gets its consumer Deployment, PDB, ScaledObject and a Sentinel-monitored Redis")
    func everyRegion() throws {
        let catalog = try sampleCatalog()
        let all = try parse(try DeployRender.render(catalog, options: DeployOptions()))
        let deployments = objects(all, kind: "Deployment")
        let scaled = objects(all, kind: "ScaledObject")
        #expect(deployments.count == catalog.regions.count)
        #expect(scaled.count == catalog.regions.count)
        // Per region: the consumer's, the Redis group's and the Sentinels' budgets and sets.
        #expect(objects(all, kind: "PodDisruptionBudget").count == 3 * catalog.regions.count)
        #expect(objects(all, kind: "StatefulSet").count == 2 * catalog.regions.count)
        #expect(objects(all, kind: "ConfigMap").map(name) == ["biomebus-regions"])

        for region in catalog.regions {
            let deployment = try #require(deployments.first { name($0) == "consumer-\(region.name)" })
            #expect(dig(deployment, "metadata", "namespace") as? String == "biomebus")
            let container = try #require(
                dig(deployment, "spec", "template", "spec", "containers", "0") as? [String: Any])
            let args = try #require(container["args"] as? [String])
            #expect(
                args == [
                    "consumer", "--regions", "/etc/biomebus/regions", "--region", region.name, "--postgres",
                    "$(BIOMEBUS_POSTGRES_URL)", "--admin", "0.0.0.0:9090", "--name", "$(POD_NAME)",
                ])
            #expect(dig(container, "readinessProbe", "httpGet", "path") as? String == "/readyz")
            #expect(dig(container, "livenessProbe", "httpGet", "path") as? String == "/healthz")
            #expect(dig(container, "env", "0", "valueFrom", "secretKeyRef", "name") as? String == "biomebus-postgres")
            let grace = try #require(
                dig(deployment, "spec", "template", "spec", "terminationGracePeriodSeconds") as? Int)
            #expect(grace > 10, "above the consumer's 10 s drain")
            #expect(dig(deployment, "spec", "replicas") == nil, "KEDA owns the replica count")

            let object = try #require(scaled.first { name($0) == "consumer-\(region.name)" })
            #expect(dig(object, "apiVersion") as? String == "keda.sh/v1alpha1")
            #expect(dig(object, "spec", "scaleTargetRef", "name") as? String == "consumer-\(region.name)")
            #expect(dig(object, "spec", "minReplicaCount") as? Int == 1)
            #expect(dig(object, "spec", "maxReplicaCount") as? Int == 10)
            let triggers = try #require(dig(object, "spec", "triggers") as? [[String: Any]])
            #expect(triggers.allSatisfy { $0["type"] as? String == "redis-sentinel-streams" })
            let metadata = triggers.compactMap { $0["metadata"] as? [String: String] }
            #expect(metadata.count == triggers.count, "KEDA trigger metadata values are all strings")
            let lag = metadata.filter { $0["lagCount"] != nil }
            let pending = metadata.filter { $0["pendingEntriesCount"] != nil }
            let streams = region.biomes.map { StreamKey.events($0) }
            #expect(lag.map { $0["stream"] } == streams)
            #expect(pending.map { $0["stream"] } == streams)
            let sentinels = (0..<3).map { "sentinel-\(region.name)-\($0).sentinel-\(region.name).biomebus.svc:26379" }
            for trigger in metadata {
                #expect(trigger["addresses"] == sentinels.joined(separator: ","))
                #expect(trigger["sentinelMaster"] == region.name)
                #expect(trigger["consumerGroup"] == region.consumer.group)
                #expect(trigger["databaseIndex"] == "0")
            }
            #expect(lag.first?["lagCount"] == String(region.consumer.maxInFlight * 10))

            let redis = try #require(objects(all, kind: "StatefulSet").first { name($0) == "redis-\(region.name)" })
            let command = try #require(
                dig(redis, "spec", "template", "spec", "containers", "0", "command") as? [String])
            #expect(command.count == 3 && command[2].contains("redis-server /etc/redis/redis.conf --bind 0.0.0.0"))
            #expect(command[2].contains("SENTINEL get-master-addr-by-name \(region.name)"))
            #expect(dig(redis, "spec", "replicas") as? Int == 3)
            #expect(
                dig(
                    redis, "spec", "template", "spec", "affinity", "podAntiAffinity",
                    "preferredDuringSchedulingIgnoredDuringExecution", "0", "podAffinityTerm", "topologyKey")
                    as? String == "kubernetes.io/hostname")
            let sentinel = try #require(
                objects(all, kind: "StatefulSet").first { name($0) == "sentinel-\(region.name)" })
            #expect(dig(sentinel, "spec", "replicas") as? Int == 3)
            let sentinelScript = try #require(
                dig(sentinel, "spec", "template", "spec", "containers", "0", "command", "2") as? String)
            #expect(sentinelScript.contains("sentinel monitor \(region.name) $MASTER 6379 2"))
            #expect(sentinelScript.contains("exec redis-server /data/sentinel.conf --sentinel"))
            #expect(
                objects(all, kind: "PodDisruptionBudget").filter {
                    [
                        "redis-\(region.name)", "sentinel-\(region.name)",
                    ].contains(name($0)) && dig($0, "spec", "maxUnavailable") as? Int == 1
                }.count == 2)
            #expect(dig(redis, "spec", "template", "spec", "containers", "0", "image") as? String == "redis:7")
            #expect(
                dig(redis, "spec", "template", "spec", "volumes", "0", "configMap", "name") as? String
                    == "biomebus-redis-conf")
            #expect(dig(redis, "spec", "volumeClaimTemplates", "0", "metadata", "name") as? String == "data")
            let service = try #require(objects(all, kind: "Service").first { name($0) == "redis-\(region.name)" })
            #expect(dig(service, "spec", "ports", "0", "port") as? Int == 6379)
            let sentinelService = try #require(
                objects(all, kind: "Service").first { name($0) == "sentinel-\(region.name)" })
            #expect(dig(sentinelService, "spec", "ports", "0", "port") as? Int == 26379)
        }
    }

    @Test("the regions ConfigMap holds every region, its Redis rewritten to the generated Sentinel URL")
    func regionsConfigMap() throws {
        let catalog = try sampleCatalog()
        let all = try parse(try DeployRender.render(catalog, options: DeployOptions()))
        let data = try #require(dig(objects(all, kind: "ConfigMap").first, "data") as? [String: String])
        #expect(data.keys.sorted() == catalog.regions.map { "\($0.name).yaml" }.sorted())
        for original in catalog.regions {
            let text = try #require(data["\(original.name).yaml"])
            let parsed = try RegionConfig.parse(yaml: text, file: "configmap")
            let name = original.name
            let url =
                "redis+sentinel://sentinel-\(name)-0.sentinel-\(name):26379,sentinel-\(name)-1.sentinel-\(name):26379,"
                + "sentinel-\(name)-2.sentinel-\(name):26379/\(name)"
            #expect(parsed.redis == (try RedisAddress(url: url)))
            #expect(parsed.biomes == original.biomes)
            #expect(parsed.stream == original.stream)
            #expect(parsed.consumer == original.consumer)
        }
    }

    @Test("--keep-redis keeps the URLs and renders a Redis only for regions on their generated host")
    func keepRedis() throws {
        let external = try region("north", biomes: [1, 2])
        let own = try region("south", biomes: [3], redis: "redis://redis-south:6379/0")
        let catalog = try RegionCatalog(regions: [external, own])
        var options = DeployOptions()
        options.keepRedis = true
        options.namespace = "games"
        let all = try parse(try DeployRender.render(catalog, options: options))
        #expect(objects(all, kind: "StatefulSet").map(name) == ["redis-south"])
        #expect(objects(all, kind: "NetworkPolicy").map(name) == ["redis-south"])
        let triggers = objects(all, kind: "ScaledObject").map {
            (dig($0, "spec", "triggers") as? [[String: Any]] ?? []).compactMap { $0["metadata"] as? [String: String] }
        }
        #expect(triggers[0].allSatisfy { $0["address"] == "10.1.2.3:6380" && $0["databaseIndex"] == "2" })
        #expect(triggers[0].compactMap { $0["stream"] } == ["EVSTREAM:1", "EVSTREAM:1", "EVSTREAM:2", "EVSTREAM:2"])
        #expect(triggers[1].allSatisfy { $0["address"] == "redis-south.games.svc:6379" })
        let data = try #require(dig(objects(all, kind: "ConfigMap").first, "data") as? [String: String])
        #expect(try RegionConfig.parse(yaml: data["north.yaml"]!, file: "x").redis == external.redis)
        #expect(all.allSatisfy { dig($0, "metadata", "namespace") as? String == "games" })
    }

    @Test("options and names that Kubernetes would refuse are one-line errors")
    func errors() throws {
        let catalog = try RegionCatalog(regions: [try region("north", biomes: [1])])
        var options = DeployOptions()
        options.namespace = "Bad_NS"
        #expect(throws: DeployRenderError.self) { try DeployRender.render(catalog, options: options) }
        options = DeployOptions()
        options.minReplicas = 5
        options.maxReplicas = 2
        #expect(throws: DeployRenderError.self) { try DeployRender.render(catalog, options: options) }
        let long = try RegionCatalog(regions: [try region(String(repeating: "a", count: 40), biomes: [1])])
        #expect(throws: DeployRenderError.self) { try DeployRender.render(long, options: DeployOptions()) }
        let secret = try RegionCatalog(regions: [try region("north", biomes: [1], redis: "redis://:pw@h:6379/0")])
        var keep = DeployOptions()
        keep.keepRedis = true
        #expect(throws: DeployRenderError.self) { try DeployRender.render(secret, options: keep) }
        let loopback = try RegionCatalog(regions: [try region("north", biomes: [1], redis: "redis://127.0.0.1:6379/0")])
        #expect(throws: DeployRenderError.self) { try DeployRender.render(loopback, options: keep) }
        #expect(throws: DeployRenderError.self) { try DeployRender.render(try sampleCatalog(), options: keep) }
        // Without --keep-redis the password goes away with the rewritten URL.
        #expect(throws: Never.self) { try DeployRender.render(secret, options: DeployOptions()) }
    }

    @Test("deploy/k8s/regions.yaml is the render of the sample regions (regenerate it when they change)")
    func committedRenderIsCurrent() throws {
        let expected = try DeployRender.render(try sampleCatalog(), options: DeployOptions())
        let committed = try repositoryFile("deploy/k8s/regions.yaml")
        #expect(
            committed == expected,
            "run: swift run biomebus deploy render --regions regions > deploy/k8s/regions.yaml")
    }

    @Test("deploy/k8s/redis.conf is the top-level redis.conf, byte for byte")
    func redisConfInSync() throws {
        let top = try Data(contentsOf: repositoryRoot.appendingPathComponent("redis.conf"))
        let copy = try Data(contentsOf: repositoryRoot.appendingPathComponent("deploy/k8s/redis.conf"))
        #expect(top == copy, "run: cp redis.conf deploy/k8s/redis.conf")
    }
}

@Suite("YAML emission: manifests as Yams nodes")
struct YAMLEmissionTests {
    @Test("strings that YAML would read as something else are quoted, and read back as written")
    func quoting() throws {
        let tricky = [
            "no", "Yes", "null", "~", "true", "6379", "0.9", "1e3", "0x1F", "EVSTREAM:53", "$(X)", "a: b", "- x",
            "#c", "", " lead", "trail ", "quote\"back\\slash", "tab\there", "line\nbreak", "*star", "&amp", "!tag",
            "%p", "@at", "`tick", "[a]", "{b}", "a,b", "é", "2024-01-01", ".inf", "-1", "redis://:p#ss@h:6379/0",
        ]
        let node = Node.map(tricky.enumerated().map { ("k\($0.offset)", .string($0.element)) })
        let parsed = try #require(try Yams.load(yaml: YAMLEmission.document(node)) as? [String: Any])
        for (index, value) in tricky.enumerated() {
            #expect(parsed["k\(index)"] as? String == value, "\(value)")
        }
        #expect(
            YAMLEmission.document(.map([("app.kubernetes.io/name", "biomebus")]))
                == "app.kubernetes.io/name: biomebus\n")
    }

    @Test("YAML 1.1 bool and null words are double-quoted, for go-yaml readers such as kubectl")
    func yaml11Words() {
        for word in ["y", "N", "yes", "No", "on", "OFF", "true", "False", "null", "~"] {
            #expect(YAMLEmission.document(.map([("k", .string(word))])) == "k: \"\(word)\"\n", "\(word)")
        }
    }

    @Test("literal blocks keep the text exactly, including leading spaces and trailing newlines")
    func blocks() throws {
        let texts = ["a\nb\n", "a\nb", "a\n\n", " indented\nx\n", "one\n\n  two\n", "\nstarts empty\n"]
        let node = Node.map(
            [("list", .list(texts.map { Node.text($0) }))]
                + texts.enumerated().map { ("t\($0.offset)", .text($0.element)) })
        let parsed = try #require(try Yams.load(yaml: YAMLEmission.document(node)) as? [String: Any])
        #expect(parsed["list"] as? [String] == texts)
        for (index, text) in texts.enumerated() {
            #expect(parsed["t\(index)"] as? String == text)
        }
        #expect(YAMLEmission.document(.map([("f", .text("a\nb\n"))])) == "f: |\n  a\n  b\n")
    }

    @Test("nested maps, lists and empty collections; numbers and bools plain, number-like strings quoted")
    func nesting() throws {
        let node: Node = .map([
            ("a", .list([.map([("b", 1), ("c", .list(["x", "y"]))]), .list([1, 2]), "z"])),
            ("empty", .map([])), ("none", .list([])), ("flag", .bool(false)), ("cpu", "1"),
        ])
        let text = YAMLEmission.document(node)
        let parsed = try #require(try Yams.load(yaml: text) as? [String: Any])
        #expect(dig(parsed, "a", "0", "b") as? Int == 1)
        #expect(dig(parsed, "a", "0", "c") as? [String] == ["x", "y"])
        #expect(dig(parsed, "a", "1") as? [Int] == [1, 2])
        #expect(dig(parsed, "a", "2") as? String == "z")
        #expect((parsed["empty"] as? [String: Any])?.isEmpty == true)
        #expect((parsed["none"] as? [Any])?.isEmpty == true)
        #expect(parsed["flag"] as? Bool == false)
        #expect(parsed["cpu"] as? String == "1")
        #expect(text.contains("flag: false\n") && text.contains("cpu: \"1\"\n"))
    }
}
