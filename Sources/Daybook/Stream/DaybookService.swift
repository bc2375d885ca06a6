import Foundation
import Logging
import ServiceLifecycle

/// `daybook run` as a ServiceLifecycle service: the replication pipeline on its own thread,
/// stopped gracefully (final checkpoint, final status update) on SIGTERM or SIGINT.
public struct DaybookService: Service {
    public let configuration: RunConfiguration
    public let logger: Logger
    public let metrics: PipelineMetrics
    public let health: ServiceHealth

    public init(
        configuration: RunConfiguration,
        logger: Logger,
        metrics: PipelineMetrics = PipelineMetrics(),
        health: ServiceHealth = ServiceHealth()
    ) {
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.health = health
    }

    public func run() async throws {
        let stop = StopSignal()
        let configuration = configuration
        let logger = logger
        let metrics = metrics
        let health = health
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let thread = Thread {
                        do {
                            try ReplicationPipeline(
                                configuration: configuration,
                                logger: logger,
                                stop: stop,
                                metrics: metrics,
                                health: health
                            ).run()
                            continuation.resume()
                        } catch {
                            continuation.resume(throwing: error)
                        }
                    }
                    thread.name = "daybook-replication"
                    thread.start()
                }
            } onCancel: {
                stop.stop()
            }
        } onGracefulShutdown: {
            logger.info("shutting down: writing the last checkpoint")
            stop.stop()
        }
    }
}

extension DaybookService: CustomStringConvertible {
    public var description: String { "DaybookService(slot: \(configuration.slot))" }
}
