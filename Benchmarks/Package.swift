// swift-tools-version: 6.1
// The micro-benchmarks of Daybook's pure hot path: the pgoutput decoder and the windowing
// engine, with package-benchmark (time, throughput, allocations). A package of its own, so
// that building Daybook never builds the benchmark framework. Run with `scripts/bench micro`
// or `swift package --package-path Benchmarks benchmark`.
import PackageDescription

let package = Package(
    name: "DaybookBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Daybook", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "DecoderBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "PgOutput", package: "Daybook"),
                .product(name: "DaybookCore", package: "Daybook"),
                .product(name: "WAL", package: "Daybook"),
                .product(name: "Windowing", package: "Daybook"),
            ],
            path: "Benchmarks/DecoderBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "WindowingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Windowing", package: "Daybook"),
            ],
            path: "Benchmarks/WindowingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
