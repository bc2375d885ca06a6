import Daybook
import DaybookCore
import Logging
import NIOPosix
import PostgresReplication
import ServiceLifecycle
import Synchronization

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
    /// Polled before the first pass: beside the stream, the stream's own checks of the sink go
    /// first, so a configuration error ends `run` with its one line, not after a sender warning.
    let startWhen: @Sendable () -> Bool

    public init(
        sender: OutboxSender,
        interval: Duration,
        logger: Logger,
        startWhen: @escaping @Sendable () -> Bool = { true }
    ) {
        self.sender = sender
        self.interval = interval
        self.logger = logger
        self.startWhen = startWhen
    }

    public var description: String { "DeliveryService(every: \(interval))" }

    public func run() async throws {
        // A thread of its own (libpq and the request block): a receiver that takes its time
        // never takes a thread the API, the dashboard or a scrape is waiting for.
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let stopping = Mutex(false)
        await withGracefulShutdownHandler {
            while !stopping.withLock({ $0 }), !startWhen() {
                do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(250)) } } catch {
                    break
                }
            }
            while !stopping.withLock({ $0 }) {
                await passOnce(on: pool) { stopping.withLock { $0 } }
                do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { break }
            }
        } onGracefulShutdown: {
            // The pass in progress ends after its current attempt, never in the middle of one.
            stopping.withLock { $0 = true }
        }
        try? await pool.shutdownGracefully()
    }

    /// One pass on the sender's thread.
    private func passOnce(on pool: NIOThreadPool, shouldStop: @escaping @Sendable () -> Bool) async {
        let sender = sender
        do {
            let summary = try await pool.runIfActive { try sender.sendDue(shouldStop: shouldStop) }
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
