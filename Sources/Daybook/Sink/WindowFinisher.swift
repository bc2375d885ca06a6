import DaybookCore
import Logging
import Metrics

/// Makes closed windows final on a thread and a sink connection of its own, so that the
/// stream never waits for it.
///
/// The checkpoint that closes a window only marks it `closing` (a quick update); merging its
/// keys, counting them and folding its events take seconds for a day of millions of keys, and
/// done in the checkpoint they held every later checkpoint back: the slot's lag grew by the
/// whole close. Here they run beside the checkpoints (``Sink/finishNextClosingWindow()``, one
/// window per transaction, oldest first). A window waits in `closing` until then, also across
/// a restart: a new finisher starts with whatever is waiting. A ``BlockingWorker`` owns the
/// thread and the sink.
final class WindowFinisher: Sendable {
    /// The one job: finish every window that waits, oldest first.
    private struct FinishWaiting: Sendable {}

    private let worker: BlockingWorker<Sink, FinishWaiting, Void>

    /// Takes ownership of `sink` (a connection of its own) and starts finishing what waits.
    init(sink: Sink, logger: Logger) {
        worker = BlockingWorker(
            name: "daybook-finish",
            owning: sink,
            queueLimit: 1,
            perform: { sink, _, isClosing throws(DaybookError) in
                try Self.finishWaiting(sink, logger: logger, isClosing: isClosing)
            },
            onFailure: { error, attempt in
                // A lost connection is the session's to notice and restart; anything else
                // keeps the window waiting, said once per attempt, and is tried again.
                logger.warning(
                    "could not finish a closed window; it stays 'closing' and is tried again",
                    metadata: [LogKey.error: "\(error.message)", LogKey.attempt: "\(attempt)"]
                )
                return .retry(
                    after: retryDelaySeconds(attempt: attempt),
                    report: !(error.isRetryable && attempt < 5)
                )
            }
        )
        worker.wake(FinishWaiting())
    }

    /// Says a checkpoint closed windows: they wait to be finished.
    func wake() {
        worker.wake(FinishWaiting())
    }

    /// Blocks until no window waits (for `--until-caught-up`, whose report must find the
    /// windows it closed closed); throws the error that stopped finishing, if any.
    func waitUntilIdle() throws {
        try worker.drain()
    }

    /// Stops the thread once the window being finished (if any) is done; what still waits
    /// is finished by the next run.
    func close() {
        worker.close()
    }

    private static func finishWaiting(
        _ sink: Sink,
        logger: Logger,
        isClosing: () -> Bool
    ) throws(DaybookError) {
        while let finished = try sink.finishNextClosingWindow() {
            logger.info(
                "window closed",
                metadata: [
                    LogKey.windowStart: "\(finished.window.start)", LogKey.windowEnd: "\(finished.window.end)",
                    LogKey.reason: "\(finished.closedBy)", LogKey.keys: "\(finished.keys)",
                    LogKey.sinkMilliseconds: "\(Int((finished.duration / .milliseconds(1)).rounded()))",
                ]
            )
            for (table, count) in finished.truncatedEvents.sorted(by: { $0.key < $1.key }) {
                Counter(label: DaybookMetric.truncatedValueEvents.rawValue, dimensions: [("table", table)])
                    .increment(by: Int64(count))
                logger.warning(
                    "a values table's events were left out at close: \(count) over --max-events-per-key (counted per key; raise the limit to keep them)",
                    metadata: [LogKey.windowStart: "\(finished.window.start)", "daybook.table": "\(table)"]
                )
            }
            do { try sink.indexClosedWindow(finished.window) } catch {
                logger.warning(
                    "could not index a closed window's keys; paging through them stays slow",
                    metadata: [LogKey.windowStart: "\(finished.window.start)", LogKey.error: "\(error.message)"]
                )
            }
            if isClosing() { break }
        }
    }
}
