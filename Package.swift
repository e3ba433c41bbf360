// swift-tools-version: 6.1
import PackageDescription

// Modules in layers, bottom up; every dependency points to a lower layer (docs/architecture.md
// has the diagram and each module's one job; scripts/check-layers checks the imports):
//   L0 C headers:   CLibEvent, CHiredis, CLibPQ
//   L1 foundations: BusLoop (loops, timers, signals, sockets, DNS), BusJSON (JSON parser and writer),
//                   BusConfigFile (strict YAML config-file access)
//   L2 clients:     BusHTTP (HTTP server), BusRedis (hiredis, Sentinel), BusPostgres (libpq, pool)
//   L3 protocols:   BusStreams (Redis Streams commands, replies, scripts), BusDomain (biomes, spawn events)
//   L4 models:      BusRegions (region files, Redis addresses), BusChests (the chests table), BusAuth (trust)
//   L5 shared:      BusService (service chassis), BusOps (ops read model), BusTesting (processes, servers)
//   L6 services:    BusGateway, BusActivation, BusConsumer, BusDeploy (Kubernetes render)
//   L7 local stack: BusLocalStack (its own servers plus every service in one process)
//   L8 command:     biomebus
let package = Package(
    name: "BiomeBus",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "biomebus", targets: ["biomebus"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CLibEvent", pkgConfig: "libevent_pthreads", providers: [.apt(["libevent-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

        .target(name: "BusLoop", dependencies: ["CLibEvent"]),
        // Strict RFC 8259 parser, JSON values and the compact writer: a leaf, no dependencies.
        .target(name: "BusJSON"),
        // Strict, typed reading of YAML configuration files (region files, the auth file): one
        // error type naming file, key and line. Over Yams only.
        .target(name: "BusConfigFile", dependencies: ["Yams"]),
        .target(name: "BusHTTP", dependencies: ["BusLoop", "CLibEvent"]),
        .target(
            name: "BusRedis",
            dependencies: ["BusLoop", "CHiredis", .product(name: "DequeModule", package: "swift-collections")]
        ),
        // The Redis Streams protocol: typed commands and replies over BusRedis.
        .target(
            name: "BusStreams",
            dependencies: ["BusRedis", .product(name: "Crypto", package: "swift-crypto")]),

        .target(
            name: "BusPostgres",
            dependencies: [
                "BusLoop", "CLibPQ", "CLibEvent", .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),

        .target(name: "BusDomain", dependencies: ["BusJSON"]),
        // Region files: their model, YAML (read and written with Yams), catalog, Redis addresses.
        .target(name: "BusRegions", dependencies: ["BusConfigFile", "BusDomain", "BusLoop", "BusRedis", "Yams"]),
        .target(name: "BusDeploy", dependencies: ["BusDomain", "BusRegions", "Yams"]),
        // Who may spawn and who may open a chest: the auth file, client tokens, player JWTs,
        // receipts, the rate-limit script. Crypto from swift-crypto only, never by hand.
        .target(
            name: "BusAuth",
            dependencies: [
                "BusConfigFile", "BusDomain", "BusJSON", "BusRedis", "BusStreams", "Yams",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // The treasure_chests table: schema, migrations, every statement on it, row decoding.
        .target(
            name: "BusChests",
            dependencies: ["BusDomain", "BusJSON", "BusPostgres", .product(name: "Logging", package: "swift-log")]
        ),

        .target(
            name: "BusService",
            dependencies: [
                // BusAuth: refusals (`AuthRefusal`) render as API errors in one place, here.
                "BusLoop", "BusHTTP", "BusPostgres", "BusJSON", "BusAuth",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Atomics", package: "swift-atomics"),
            ]
        ),
        .target(
            name: "BusOps", dependencies: ["BusLoop", "BusRedis", "BusDomain", "BusStreams", "BusRegions", "BusJSON"]),
        .target(
            name: "BusGateway",
            dependencies: [
                "BusLoop", "BusHTTP", "BusRedis", "BusDomain", "BusService", "BusOps", "BusStreams", "BusRegions",
                "BusJSON", "BusAuth",
                .product(name: "Logging", package: "swift-log"),
            ],
            // The OpenAPI document, compiled in (no resource bundle to ship): GET /openapi.json.
            resources: [.embedInCode("Resources/openapi.json")]
        ),

        .target(
            name: "BusActivation",
            dependencies: [
                "BusLoop", "BusHTTP", "BusPostgres", "BusDomain", "BusService", "BusChests", "BusJSON", "BusAuth",
                "BusRedis", "BusRegions",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.embedInCode("Resources/openapi.json")]
        ),
        .target(
            name: "BusConsumer",
            dependencies: [
                "BusLoop", "BusHTTP", "BusRedis", "BusPostgres", "BusDomain", "BusService", "BusStreams", "BusChests",
                "BusRegions", "BusJSON",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Child processes, our own Postgres and Redis servers, a plain HTTP client, loopback
        // ports: shared by `biomebus up` and the integration tests.
        .target(name: "BusTesting", dependencies: ["BusLoop", "BusPostgres"]),

        .target(
            name: "BusLocalStack",
            dependencies: [
                "BusGateway", "BusActivation", "BusConsumer", "BusService", "BusDomain", "BusHTTP", "BusPostgres",
                "BusOps", "BusChests", "BusRegions", "BusAuth",
                "BusTesting",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .executableTarget(
            name: "biomebus",
            dependencies: [
                "BusGateway", "BusActivation", "BusConsumer", "BusService", "BusLocalStack", "BusOps", "BusDomain",
                "BusLoop", "BusHTTP", "BusDeploy", "BusPostgres", "BusChests", "BusRegions", "BusAuth", "BusJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .testTarget(name: "BusLoopTests", dependencies: ["BusLoop"]),
        .testTarget(name: "BusDomainTests", dependencies: ["BusDomain"]),
        .testTarget(
            name: "BusAuthTests",
            dependencies: [
                "BusAuth", "BusConfigFile", "BusDomain", "BusJSON", "BusStreams", "BusRedis", "BusOps", "BusRegions",
                "BusTesting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "BusDeployTests", dependencies: ["BusDeploy", "BusDomain", "BusRegions", "Yams"]),
        .testTarget(name: "BusHTTPTests", dependencies: ["BusHTTP", "BusLoop", "BusTesting"]),
        .testTarget(name: "BusRedisTests", dependencies: ["BusRedis"]),
        .testTarget(name: "BusOpsTests", dependencies: ["BusOps", "BusRedis", "BusDomain"]),
        .testTarget(name: "BusStreamsTests", dependencies: ["BusStreams", "BusRedis"]),
        .testTarget(name: "BusPostgresTests", dependencies: ["BusPostgres"]),
        .testTarget(
            name: "BusConsumerTests",
            dependencies: [
                "BusConsumer", "BusDomain", "BusChests", "BusJSON", "BusLoop", "BusRedis", "BusStreams", "BusTesting",
                "BusRegions",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "BusChestsTests", dependencies: ["BusChests", "BusDomain", "BusPostgres"]),
        .testTarget(
            name: "BusActivationTests",
            dependencies: [
                "BusActivation", "BusChests", "BusDomain", "BusPostgres", "BusService",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "BusGateway", "BusActivation", "BusConsumer", "BusService", "BusDomain", "BusLoop", "BusRedis",
                "BusHTTP", "BusPostgres", "BusOps", "BusStreams", "BusChests", "BusAuth",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                "BusTesting", "BusRegions",
            ]
        ),
        .testTarget(
            name: "BusRegionsTests", dependencies: ["BusRegions", "BusConfigFile", "BusDomain", "BusRedis", "Yams"]),
        .testTarget(name: "BusConfigFileTests", dependencies: ["BusConfigFile", "Yams"]),
        .testTarget(name: "BusJSONTests", dependencies: ["BusJSON"]),
        .testTarget(
            name: "BusGatewayTests",
            dependencies: [
                "BusGateway", "BusDomain", "BusService", "BusJSON", "BusHTTP", "BusRedis", "BusOps",
                "BusRegions",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "biomebusTests", dependencies: ["biomebus", "BusOps", "BusDomain"]),
        .testTarget(
            name: "BusServiceTests",
            dependencies: [
                "BusService", "BusHTTP", "BusLoop", .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Developer tools, declared only when BIOMEBUS_DEV_TARGETS=1 so that `swift build` and `swift test`
// never compile them: libFuzzer targets (scripts/fuzz builds them with -sanitize=fuzzer into
// .build-fuzz; libFuzzer supplies `main`) and the JSON parser benchmark (bench/json).
if Context.environment["BIOMEBUS_DEV_TARGETS"] == "1" {
    let fuzzers = [
        ("FuzzJSONParser", "BusJSON"), ("FuzzSpawnDecoding", "BusGateway"), ("FuzzIfMatch", "BusActivation"),
        ("FuzzRegionYAML", "BusRegions"), ("FuzzJWS", "BusAuth"), ("FuzzHTTPParser", "BusHTTP"),
    ]
    package.targets.append(.target(name: "FuzzSupport", path: "fuzz/FuzzSupport"))
    for (fuzzer, module) in fuzzers {
        package.targets.append(
            .executableTarget(
                name: fuzzer, dependencies: [.target(name: module), "FuzzSupport"], path: "fuzz/\(fuzzer)"))
    }
    package.targets.append(
        .executableTarget(name: "JSONParseBench", dependencies: ["BusJSON"], path: "bench/JSONParseBench"))
    // bench/auth compares BusAuth's JWT verification with vapor/jwt-kit's (async) API; jwt-kit
    // is a dependency of that benchmark only.
    package.dependencies.append(.package(url: "https://github.com/vapor/jwt-kit", from: "5.0.0"))
    package.targets.append(
        .executableTarget(
            name: "AuthVerifyBench",
            dependencies: [
                "BusAuth", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"), .product(name: "JWTKit", package: "jwt-kit"),
            ],
            path: "bench/AuthVerifyBench"))
}
