import Foundation
import Logging
import ServiceLifecycle

/// `daybook run` as a ServiceLifecycle service: the replication pipeline on its own thread,
/// stopped gracefully (final checkpoint, final status update) on SIGTERM or SIGINT.
public struct DaybookService: Service {
    public let context: RunContext

    public init(context: RunContext) {
        self.context = context
    }

    public func run() async throws {
        let stop = StopSignal()
        let context = context
        let logger = context.logger
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let thread = Thread {
                        do {
                            try ReplicationPipeline(context: context, stop: stop).run()
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
    public var description: String { "DaybookService(slot: \(context.configuration.slot))" }
}
