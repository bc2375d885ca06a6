import Daybook
import DaybookCore
import Logging
import NIOPosix
import PostgresReplication
import ServiceLifecycle

/// The sender beside the stream (`daybook run`) or the dashboard (`daybook serve --deliver`):
/// a pass over the outbox every ``interval`` (``OutboxSender``), until the service group shuts
/// down.
///
/// Any number of senders may run against one sink (this one, another machine's, `daybook
/// notify send` from cron): each destination's advisory lock lets one of them send to it at a
/// time. A day closes at most a few seconds before its delivery leaves: a pass costs one
/// indexed query when nothing is due. A sink that does not answer is logged and tried again at
/// the next pass; nothing here can stop the stream, which has connections of its own.
public struct DeliveryService: Service, CustomStringConvertible {
    let sender: OutboxSender
    let interval: Duration
    let logger: Logger

    public init(sender: OutboxSender, interval: Duration, logger: Logger) {
        self.sender = sender
        self.interval = interval
        self.logger = logger
    }

    public var description: String { "DeliveryService(every: \(interval))" }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    await passOnce()
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            return
        }
    }

    /// One pass on NIO's blocking-I/O pool (libpq and the HTTP request block); a pass already
    /// sending finishes its attempt (at most the request's timeout) before shutdown goes on.
    private func passOnce() async {
        let sender = sender
        do {
            let summary = try await NIOThreadPool.singleton.runIfActive { try sender.sendDue() }
            if summary != OutboxSender.Summary() {
                logger.debug("delivery pass", metadata: ["daybook.deliveries": "\(summary)"])
            }
        } catch let error as DaybookError {
            logger.warning(
                "deliveries wait: the sink cannot be read; trying again at the next pass",
                metadata: ["daybook.error": "\(error.message)"]
            )
        } catch {
            // The thread pool is shutting down: so is the process.
            return
        }
    }
}
