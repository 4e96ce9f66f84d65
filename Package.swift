// swift-tools-version:6.2
import PackageDescription

// Compiler strictness as a habit: Swift 6 language mode everywhere, explicit existentials,
// and imports internal unless a module re-exports a type on purpose.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// What a Docket process is written in: commands and options, logs, metrics, services (no module re-exports them).
let processProducts: [Target.Dependency] = [
    .product(name: "ArgumentParser", package: "swift-argument-parser"),
    .product(name: "Logging", package: "swift-log"),
    .product(name: "Metrics", package: "swift-metrics"),
    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
]

let package = Package(
    name: "docket",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "docket-gateway", targets: ["Gateway"]),
        .executable(name: "docket-worker", targets: ["Worker"]),
        .executable(name: "docket-scheduler", targets: ["Scheduler"]),
        .executable(name: "docketctl", targets: ["Docketctl"]),
        .executable(name: "helpdesk-sim", targets: ["HelpDeskSim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
    ],
    targets: [
        // C libraries behind system-library targets: a module map and a shim header, nothing else.
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // `Duration` in the units C libraries, SQL and metrics want; below everything else.
        .target(name: "Durations", swiftSettings: swiftSettings),

        // The one thread-ownership pattern of the C clients: a thread that owns a handle, its queue, shutdown, cancellation.
        .target(name: "Confinement", swiftSettings: swiftSettings),

        // Thin safe clients over the C libraries; C types never leave these modules.
        .target(
            name: "Redis",
            dependencies: ["CHiredis", "Confinement", "Durations", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(name: "Postgres", dependencies: ["CLibPQ", "Confinement", "Durations"], swiftSettings: swiftSettings),
        .target(name: "Curl", dependencies: ["CCurl", "Confinement", "Durations"], swiftSettings: swiftSettings),
        // Redis on a SwiftNIO event loop (hiredis as the reply decoder), for the gateway's hot path.
        .target(
            name: "RedisNIO",
            dependencies: [
                "CHiredis", "Redis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // Pure modules: no I/O.
        .target(
            name: "StandardWebhooks",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(name: "Model", dependencies: ["Durations"], swiftSettings: swiftSettings),

        // Semantics on top of the clients.
        .target(
            name: "Queue",
            dependencies: ["Redis", "RedisNIO", "Model", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .target(name: "Store", dependencies: ["Postgres", "Model", "Durations"], swiftSettings: swiftSettings),

        // What every process shares: options, logging, metrics/health endpoint, lifecycle.
        .target(
            name: "Runtime",
            dependencies: [
                "Durations",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The worker's and scheduler's /livez, /readyz and /metrics on Hummingbird; the gateway serves its own.
        .target(
            name: "HealthEndpoint",
            dependencies: processProducts + [
                "Runtime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),

        // One executable each.
        .executableTarget(
            name: "Gateway",
            dependencies: processProducts + [
                "Runtime", "Queue", "Model", "StandardWebhooks",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Worker",
            dependencies: processProducts + ["Runtime", "HealthEndpoint", "Queue", "Store", "Model", "Durations"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Scheduler",
            dependencies: processProducts + ["Runtime", "HealthEndpoint", "Store", "Curl", "Model"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Docketctl",
            dependencies: processProducts + [
                "Runtime", "Queue", "Store", "Model", "StandardWebhooks", "Durations",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "HelpDeskSim",
            dependencies: processProducts + [
                "Runtime", "Curl", "StandardWebhooks", "Model",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),

        // Test support: shared services from the environment, private servers for fault tests, child processes.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: swiftSettings),

        .testTarget(name: "DurationsTests", dependencies: ["Durations"], swiftSettings: swiftSettings),
        .testTarget(name: "ConfinementTests", dependencies: ["Confinement"], swiftSettings: swiftSettings),
        .testTarget(name: "RedisTests", dependencies: ["Redis", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "RedisNIOTests",
            dependencies: [
                "RedisNIO", "Redis", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "CurlTests", dependencies: ["Curl", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "StandardWebhooksTests",
            dependencies: ["StandardWebhooks", "TestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ModelTests", dependencies: ["Model"], swiftSettings: swiftSettings),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Postgres", "Model", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "QueueTests",
            dependencies: [
                "Queue", "Redis", "RedisNIO", "Model", "TestSupport", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RuntimeTests",
            dependencies: processProducts + ["Runtime"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HealthEndpointTests",
            dependencies: processProducts + ["HealthEndpoint", "Runtime", .product(name: "HummingbirdTesting", package: "hummingbird")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: processProducts + [
                "Gateway", "Queue", "Redis", "RedisNIO", "Model", "StandardWebhooks", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WorkerTests",
            dependencies: ["Worker", "Queue", "Store", "Redis", "Postgres", "Model", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SchedulerTests",
            dependencies: ["Scheduler", "HelpDeskSim", "Store", "Postgres", "Curl", "Model", "StandardWebhooks", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DocketctlTests",
            dependencies: [
                "Docketctl", "Queue", "Store", "Redis", "Postgres", "Model", "StandardWebhooks", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SystemTests",
            dependencies: ["Queue", "Store", "Redis", "Postgres", "Model", "StandardWebhooks", "TestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
