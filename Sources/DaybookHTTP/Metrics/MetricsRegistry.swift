import Metrics
import Prometheus

/// The process's Prometheus registry: swift-metrics bootstrapped into it (once per process,
/// as swift-metrics requires), plus the process metrics.
public struct MetricsRegistry: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let process: ProcessMetrics

    /// Bootstraps swift-metrics with Daybook's Prometheus factory. Call once, before any
    /// metric is created (before the pipeline starts).
    public static func bootstrap() -> MetricsRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(DaybookMetricsFactory(registry: registry))
        return MetricsRegistry(unbootstrapped: registry)
    }

    /// A registry with the process metrics, which swift-metrics is not (yet) bootstrapped into:
    /// ``bootstrap()`` does that once; the route tests build many servers in one process.
    init(unbootstrapped registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.process = ProcessMetrics(registry: registry)
    }

    /// The exposition in Prometheus' text format, process figures read just now.
    func exposition() -> [UInt8] {
        process.update()
        return registry.emitToBuffer()
    }
}
