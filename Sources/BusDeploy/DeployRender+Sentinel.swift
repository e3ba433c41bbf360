import BusRedis
import BusRegions
import Yams

/// The Sentinel-monitored Redis rendered for a region (issue #13): StatefulSet `redis-NAME` of
/// `redisReplicas` pods (pod 0 starts as master, the others as its replicas), StatefulSet
/// `sentinel-NAME` of three Sentinels monitoring it under the region's name, a headless Service,
/// a PodDisruptionBudget and a NetworkPolicy for each, and anti-affinity spreading the pods over
/// nodes. The region's rendered file says
/// `redis+sentinel://sentinel-NAME-0.sentinel-NAME:26379,…/NAME`.
///
/// A pod that starts (or restarts after a failover) asks the Sentinels for the current master
/// first, so a restarted old master comes back as a replica and a restarted Sentinel monitors
/// the master in office, not pod 0.
extension DeployRender {
    /// Data pods per region: a master and two replicas, so that after a promotion the new
    /// master still has a replica (what `stream.durability.replicas: 1` needs).
    package static let redisReplicas = 3
    package static let sentinelCount = 3
    package static let sentinelPort = 26379
    /// Sentinel's failure detection in a cluster: longer than on loopback, where tests use 1 s.
    package static let sentinelDownAfterMilliseconds = 5000

    /// The Sentinel StatefulSet and Service of a region.
    package static func generatedSentinelName(_ region: String) -> String { "sentinel-\(region)" }

    /// The Sentinel address rendered for a region.
    static func generatedSentinelAddress(_ region: String) -> SentinelAddress {
        let name = generatedSentinelName(region)
        return SentinelAddress(
            sentinels: (0..<sentinelCount).map {
                RedisServerAddress(host: "\(name)-\($0).\(name)", port: sentinelPort)
            },
            masterName: region)
    }

    /// True when the deployed region's Redis is the Sentinel group rendered for it.
    package static func ownsGeneratedSentinelGroup(_ deployed: RegionConfig) -> Bool {
        deployed.redis.sentinel == generatedSentinelAddress(deployed.name)
    }

    /// The `addresses` of KEDA's `redis-sentinel-streams` trigger: the Sentinels by their
    /// namespaced names (KEDA's operator runs in its own namespace).
    static func kedaSentinelAddresses(_ deployed: RegionConfig, options: DeployOptions) -> String {
        guard let sentinel = deployed.redis.sentinel else { return "" }
        return sentinel.sentinels.map { server in
            ownsGeneratedSentinelGroup(deployed)
                ? "\(server.host).\(options.namespace).svc:\(server.port)" : server.description
        }.joined(separator: ",")
    }

    static func sentinelGroupObjects(_ region: RegionConfig, options: DeployOptions) -> [Node] {
        let redis = generatedRedisHost(region.name)
        let sentinel = generatedSentinelName(region.name)
        return [
            headlessService(
                redis, port: 6379, portName: "redis", labels: redisLabels(region), selector: redisSelector(region),
                options: options),
            groupRedisStatefulSet(region, options: options),
            disruptionBudget(redis, labels: redisLabels(region), selector: redisSelector(region), options: options),
            groupNetworkPolicy(
                redis, port: 6379, selector: redisSelector(region), labels: redisLabels(region), options),
            headlessService(
                sentinel, port: sentinelPort, portName: "sentinel", labels: sentinelLabels(region),
                selector: sentinelSelector(region), options: options),
            sentinelStatefulSet(region, options: options),
            disruptionBudget(
                sentinel, labels: sentinelLabels(region), selector: sentinelSelector(region), options: options),
            groupNetworkPolicy(
                sentinel, port: sentinelPort, selector: sentinelSelector(region), labels: sentinelLabels(region),
                options),
        ]
    }

    static func sentinelLabels(_ region: RegionConfig) -> [(String, Node)] {
        [
            ("app.kubernetes.io/name", "redis-sentinel"), ("app.kubernetes.io/component", "sentinel"),
            ("app.kubernetes.io/part-of", "biomebus"), ("biomebus.io/region", .string(region.name)),
        ]
    }

    static func sentinelSelector(_ region: RegionConfig) -> [(String, Node)] {
        [("app.kubernetes.io/component", "sentinel"), ("biomebus.io/region", .string(region.name))]
    }

    /// The shell that asks the Sentinels (through their Service) which server is master; empty
    /// when none answers (the first start of the group).
    static func currentMasterScript(_ region: RegionConfig) -> String {
        let sentinel = generatedSentinelName(region.name)
        return "MASTER=$(redis-cli -h \(sentinel) -p \(sentinelPort) --raw SENTINEL get-master-addr-by-name "
            + "\(region.name) 2>/dev/null | head -1)"
    }

    static func groupRedisStatefulSet(_ region: RegionConfig, options: DeployOptions) -> Node {
        let name = generatedRedisHost(region.name)
        // Pod 0 is master on the group's first start; afterwards whoever the Sentinels name.
        // Each pod announces its stable DNS name, which is what Sentinel hands out.
        let script = """
            set -e
            SELF="$(hostname).\(name)"
            \(currentMasterScript(region))
            if [ -z "$MASTER" ]; then
              case "$(hostname)" in *-0) MASTER="$SELF" ;; *) MASTER="\(name)-0.\(name)" ;; esac
            fi
            ROLE=""
            if [ "$MASTER" != "$SELF" ]; then ROLE="--replicaof $MASTER 6379"; fi
            exec redis-server /etc/redis/redis.conf --bind 0.0.0.0 --protected-mode no --port 6379 --dir /data \\
              --replica-announce-ip "$SELF" $ROLE
            """
        let container: Node = .map([
            ("name", "redis"),
            ("image", .string(redisImage)),
            ("command", .list(["sh", "-c", .string(script)])),
            ("ports", .list([.map([("name", "redis"), ("containerPort", 6379)])])),
            (
                "startupProbe",
                .map([("tcpSocket", .map([("port", "redis")])), ("periodSeconds", 5), ("failureThreshold", 120)])
            ),
            (
                "livenessProbe",
                .map([("tcpSocket", .map([("port", "redis")])), ("periodSeconds", 10), ("failureThreshold", 6)])
            ),
            ("resources", redisResources),
            ("securityContext", containerSecurityContext),
            ("volumeMounts", redisVolumeMounts),
        ])
        return statefulSet(
            name, replicas: redisReplicas, labels: redisLabels(region), selector: redisSelector(region),
            container: container,
            volumes: [.map([("name", "config"), ("configMap", .map([("name", .string(redisConfigMap))]))])],
            claim: "10Gi", options: options)
    }

    static func sentinelStatefulSet(_ region: RegionConfig, options: DeployOptions) -> Node {
        let name = generatedSentinelName(region.name)
        let redis = generatedRedisHost(region.name)
        // Sentinel rewrites its configuration file: it lives in the pod's writable volume.
        let script = """
            set -e
            \(currentMasterScript(region))
            [ -n "$MASTER" ] || MASTER="\(redis)-0.\(redis)"
            cat > /data/sentinel.conf <<EOF
            port \(sentinelPort)
            dir /data
            sentinel resolve-hostnames yes
            sentinel announce-hostnames yes
            sentinel announce-ip $(hostname).\(name)
            sentinel monitor \(region.name) $MASTER 6379 2
            sentinel down-after-milliseconds \(region.name) \(sentinelDownAfterMilliseconds)
            sentinel failover-timeout \(region.name) 60000
            sentinel parallel-syncs \(region.name) 1
            EOF
            exec redis-server /data/sentinel.conf --sentinel
            """
        let container: Node = .map([
            ("name", "sentinel"),
            ("image", .string(redisImage)),
            ("command", .list(["sh", "-c", .string(script)])),
            ("ports", .list([.map([("name", "sentinel"), ("containerPort", .int(sentinelPort))])])),
            (
                "livenessProbe",
                .map([("tcpSocket", .map([("port", "sentinel")])), ("periodSeconds", 10), ("failureThreshold", 6)])
            ),
            (
                "resources",
                .map([
                    ("requests", .map([("cpu", "50m"), ("memory", "64Mi")])),
                    ("limits", .map([("cpu", "250m"), ("memory", "128Mi")])),
                ])
            ),
            ("securityContext", containerSecurityContext),
            ("volumeMounts", .list([.map([("name", "data"), ("mountPath", "/data")])])),
        ])
        return statefulSet(
            name, replicas: sentinelCount, labels: sentinelLabels(region), selector: sentinelSelector(region),
            container: container, volumes: [.map([("name", "data"), ("emptyDir", .map([]))])], claim: nil,
            options: options)
    }

    /// A StatefulSet whose pods prefer distinct nodes (a node lost takes one of them).
    static func statefulSet(
        _ name: String, replicas: Int, labels: [(String, Node)], selector: [(String, Node)], container: Node,
        volumes: [Node], claim: String?, options: DeployOptions
    ) -> Node {
        let antiAffinity: Node = .map([
            (
                "podAntiAffinity",
                .map([
                    (
                        "preferredDuringSchedulingIgnoredDuringExecution",
                        .list([
                            .map([
                                ("weight", 100),
                                (
                                    "podAffinityTerm",
                                    .map([
                                        ("topologyKey", "kubernetes.io/hostname"),
                                        ("labelSelector", .map([("matchLabels", .map(selector))])),
                                    ])
                                ),
                            ])
                        ])
                    )
                ])
            )
        ])
        var spec: [(String, Node)] = [
            ("serviceName", .string(name)),
            ("replicas", .int(replicas)),
            // All at once: a replica's start asks the Sentinels, who start beside it.
            ("podManagementPolicy", "Parallel"),
            ("selector", .map([("matchLabels", .map(selector))])),
            (
                "template",
                .map([
                    ("metadata", .map([("labels", .map(labels))])),
                    (
                        "spec",
                        .map([
                            ("terminationGracePeriodSeconds", 60),
                            ("securityContext", redisPodSecurityContext),
                            ("affinity", antiAffinity),
                            ("containers", .list([container])),
                            ("volumes", .list(volumes)),
                        ])
                    ),
                ])
            ),
        ]
        if let claim {
            spec.append(
                (
                    "volumeClaimTemplates",
                    .list([
                        .map([
                            ("metadata", .map([("name", "data")])),
                            (
                                "spec",
                                .map([
                                    ("accessModes", .list(["ReadWriteOnce"])),
                                    ("resources", .map([("requests", .map([("storage", .string(claim))]))])),
                                ])
                            ),
                        ])
                    ])
                ))
        }
        return .map([
            ("apiVersion", "apps/v1"), ("kind", "StatefulSet"),
            ("metadata", metadata(name, options, labels: labels)),
            ("spec", .map(spec)),
        ])
    }

    static func headlessService(
        _ name: String, port: Int, portName: String, labels: [(String, Node)], selector: [(String, Node)],
        options: DeployOptions
    ) -> Node {
        .map([
            ("apiVersion", "v1"), ("kind", "Service"),
            ("metadata", metadata(name, options, labels: labels)),
            (
                "spec",
                .map([
                    ("clusterIP", "None"),
                    // Sentinels and replicas find each other before they are ready.
                    ("publishNotReadyAddresses", .bool(true)),
                    ("selector", .map(selector)),
                    (
                        "ports",
                        .list([
                            .map([("name", .string(portName)), ("port", .int(port)), ("targetPort", .string(portName))])
                        ])
                    ),
                ])
            ),
        ])
    }

    /// One pod of the group may be down for a voluntary disruption at a time: a quorum of
    /// Sentinels and a master with a replica stay.
    static func disruptionBudget(
        _ name: String, labels: [(String, Node)], selector: [(String, Node)], options: DeployOptions
    ) -> Node {
        .map([
            ("apiVersion", "policy/v1"), ("kind", "PodDisruptionBudget"),
            ("metadata", metadata(name, options, labels: labels)),
            ("spec", .map([("maxUnavailable", 1), ("selector", .map([("matchLabels", .map(selector))]))])),
        ])
    }

    /// BiomeBus pods (the group's own included: replicas, Sentinels) and KEDA's operator only.
    static func groupNetworkPolicy(
        _ name: String, port: Int, selector: [(String, Node)], labels: [(String, Node)], _ options: DeployOptions
    ) -> Node {
        .map([
            ("apiVersion", "networking.k8s.io/v1"), ("kind", "NetworkPolicy"),
            ("metadata", metadata(name, options, labels: labels)),
            (
                "spec",
                .map([
                    ("podSelector", .map([("matchLabels", .map(selector))])),
                    ("policyTypes", .list(["Ingress"])),
                    (
                        "ingress",
                        .list([
                            .map([
                                (
                                    "from",
                                    .list([
                                        .map([
                                            (
                                                "podSelector",
                                                .map([
                                                    ("matchLabels", .map([("app.kubernetes.io/part-of", "biomebus")]))
                                                ])
                                            )
                                        ]),
                                        .map([
                                            (
                                                "namespaceSelector",
                                                .map([("matchLabels", .map([("kubernetes.io/metadata.name", "keda")]))])
                                            )
                                        ]),
                                    ])
                                ),
                                ("ports", .list([.map([("protocol", "TCP"), ("port", .int(port))])])),
                            ])
                        ])
                    ),
                ])
            ),
        ])
    }
}
