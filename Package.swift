// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Daybook",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "daybook", targets: ["daybook"]),
        .library(name: "Daybook", targets: ["Daybook"]),
        // The pure modules, for the micro-benchmarks in Benchmarks/ (and anyone who needs a
        // pgoutput decoder or a windowing engine without the service).
        .library(name: "PgOutput", targets: ["PgOutput"]),
        .library(name: "Windowing", targets: ["Windowing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "PostgresReplication",
            dependencies: ["CLibPQ"]
        ),
        .target(name: "PgOutput"),
        .target(name: "Windowing"),
        .target(
            name: "Daybook",
            dependencies: [
                "PostgresReplication",
                "PgOutput",
                "Windowing",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("migrations")]
        ),
        .executableTarget(
            name: "daybook",
            dependencies: [
                "Daybook", "PgOutput", "Windowing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Shared by the integration tests and the fault run: the daybook child process, the
        // audited workload and the independent count.
        .target(name: "DaybookTestSupport", dependencies: ["PostgresReplication"]),
        .executableTarget(
            name: "daybook-fault-run",
            dependencies: [
                "DaybookTestSupport", "PostgresReplication",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/DaybookFaultRun"
        ),
        .executableTarget(
            name: "daybook-bench",
            dependencies: [
                "DaybookTestSupport", "PostgresReplication",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/DaybookBench"
        ),
        // Builds pgoutput bytes for tests: the decoder's own tests, the change processor's.
        .target(name: "PgOutputTestSupport", dependencies: ["PgOutput"], path: "Tests/PgOutputTestSupport"),
        .testTarget(
            name: "PgOutputTests", dependencies: ["PgOutput", "PgOutputTestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "WindowingTests", dependencies: ["Windowing"]),
        .testTarget(name: "PostgresReplicationTests", dependencies: ["PostgresReplication"]),
        .testTarget(name: "DaybookTests", dependencies: ["Daybook", "PgOutput", "PgOutputTestSupport", "Windowing"]),
        .testTarget(name: "DaybookIntegrationTests", dependencies: ["Daybook", "PostgresReplication", "DaybookTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
