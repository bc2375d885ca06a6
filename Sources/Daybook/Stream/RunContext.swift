import Logging

/// What every layer of `daybook run` needs, made once by the command and handed down as one
/// value: the configuration, where it logs, what it measures, and the health that `/healthz`
/// and `/readyz` read.
///
/// One value, with no defaults, so that no layer can start a second, disconnected
/// ``ServiceHealth`` (or metrics) by leaving out an argument: the service, the pipeline, the
/// stream session and the checkpoint writer all take this.
public struct RunContext: Sendable {
    public let configuration: RunConfiguration
    public let logger: Logger
    /// Where the pipeline's figures go (nowhere unless a metrics backend was bootstrapped).
    public let metrics: PipelineMetrics
    /// What the HTTP side's health endpoints read.
    public let health: ServiceHealth

    public init(configuration: RunConfiguration, logger: Logger, metrics: PipelineMetrics, health: ServiceHealth) {
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.health = health
    }
}
