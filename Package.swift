// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Daybook",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "daybook", targets: ["daybook"]),
        .library(name: "Daybook", targets: ["Daybook"]),
        // The pure modules, for the micro-benchmarks in Benchmarks/ (and anyone who needs a
        // pgoutput decoder, a windowing engine or Daybook's decisions without the service).
        .library(name: "DaybookCore", targets: ["DaybookCore"]),
        .library(name: "WAL", targets: ["WAL"]),
        .library(name: "PgOutput", targets: ["PgOutput"]),
        .library(name: "Windowing", targets: ["Windowing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        // Without its default traits: no swift-configuration (Daybook reads its own options).
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0", traits: []),
        // Deliveries: webhooks over HTTP(S) and their HMAC signatures (never hand-written crypto).
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.30.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.27.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "PostgresReplication",
            dependencies: ["CLibPQ", "WAL"]
        ),
        // The WAL position (LSN) every other module speaks of, with its one text form.
        .target(name: "WAL"),
        .target(name: "PgOutput", dependencies: ["WAL"]),
        .target(name: "Windowing", dependencies: ["WAL"]),
        // What decides, and nothing else: no libpq, no sockets, no clock, no files. Everything
        // Daybook concludes from the stream is decided here, and tested with values.
        // swift-crypto for the keyed hashes of captured values (computation, no I/O).
        .target(
            name: "DaybookCore",
            dependencies: ["PgOutput", "WAL", "Windowing", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "Daybook",
            dependencies: [
                "DaybookCore",
                "PostgresReplication",
                "PgOutput",
                "WAL",
                "Windowing",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            resources: [.copy("migrations")]
        ),
        // The ops surface: /metrics, /healthz, /readyz, the JSON API and the dashboard, over
        // Hummingbird, beside the stream (`run --listen`) or from the sink alone (`serve`).
        .target(
            name: "DaybookHTTP",
            dependencies: [
                "Daybook", "DaybookCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Delivery of closed days from the sink's outbox: webhooks (AsyncHTTPClient, signed with
        // swift-crypto's HMAC) and email (handed to msmtp), by `notify send` or a sender service
        // in `run` and `serve`. Apart from Daybook, which imports no NIO.
        .target(
            name: "DaybookDelivery",
            dependencies: [
                "Daybook", "DaybookCore", "PostgresReplication", "Windowing",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "daybook",
            dependencies: [
                "Daybook", "DaybookCore", "DaybookDelivery", "DaybookHTTP", "PgOutput", "Windowing", "WAL",
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
                "DaybookCore", "DaybookTestSupport", "PostgresReplication", "WAL",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/DaybookBench"
        ),
        // Builds pgoutput bytes for tests: the decoder's own tests, the change processor's.
        .target(name: "PgOutputTestSupport", dependencies: ["PgOutput"], path: "Tests/PgOutputTestSupport"),
        .testTarget(
            name: "PgOutputTests",
            dependencies: ["PgOutput", "PgOutputTestSupport", "WAL"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "WALTests", dependencies: ["WAL"]),
        .testTarget(name: "WindowingTests", dependencies: ["WAL", "Windowing"]),
        .testTarget(name: "PostgresReplicationTests", dependencies: ["PostgresReplication"]),
        .testTarget(
            name: "DaybookTests",
            dependencies: ["Daybook", "DaybookCore", "PgOutput", "PgOutputTestSupport", "WAL", "Windowing"]
        ),
        .testTarget(
            name: "DaybookHTTPTests",
            dependencies: [
                "DaybookHTTP", "Daybook", "DaybookCore", "DaybookTestSupport", "PostgresReplication",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "DaybookIntegrationTests",
            dependencies: ["Daybook", "DaybookCore", "DaybookTestSupport", "PostgresReplication", "Windowing"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// CI builds the project's own targets with warnings as errors (scripts/test sets the variable
// when CI is set); the dependencies' warnings are theirs.
if Context.environment["DAYBOOK_WARNINGS_AS_ERRORS"] != nil {
    for target in package.targets where target.type != .system {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-warnings-as-errors"])]
    }
}
