import DaybookCore
import Foundation
import Logging

/// Makes closed windows final on a thread and a sink connection of its own, so that the
/// stream never waits for it.
///
/// The checkpoint that closes a window only marks it `closing` (a quick update); merging its
/// keys, counting them and folding its events take seconds for a day of millions of keys, and
/// done in the checkpoint they held every later checkpoint back: the slot's lag grew by the
/// whole close. Here they run beside the checkpoints (``Sink/finishNextClosingWindow()``, one
/// window per transaction, oldest first). A window waits in `closing` until then, also across
/// a restart: a new finisher starts with whatever is waiting.
final class WindowFinisher: @unchecked Sendable {
    // @unchecked: the shared state below is guarded by `condition`; the sink is used by the
    // finisher's thread only, after `init` hands it over.
    private let condition = NSCondition()
    private var pending = true
    private var busy = false
    private var closing = false
    private var failure: DaybookError?
    private let sink: FinisherSinkBox
    private let logger: Logger

    /// Takes ownership of `sink` (a connection of its own) and starts finishing what waits.
    init(sink: Sink, logger: Logger) {
        self.sink = FinisherSinkBox(sink)
        self.logger = logger
        let thread = Thread { [self] in runLoop() }
        thread.name = "daybook-finish"
        thread.start()
    }

    /// Says a checkpoint closed windows: they wait to be finished.
    func wake() {
        condition.lock()
        pending = true
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks until no window waits (for `--until-caught-up`, whose report must find the
    /// windows it closed closed); throws the error that stopped finishing, if any.
    func waitUntilIdle() throws(DaybookError) {
        condition.lock()
        defer { condition.unlock() }
        while pending || busy, failure == nil { condition.wait() }
        if let failure { throw failure }
    }

    /// Stops the thread once the window being finished (if any) is done; what still waits
    /// is finished by the next run.
    func close() {
        condition.lock()
        closing = true
        condition.broadcast()
        while busy { condition.wait() }
        condition.unlock()
    }

    private func runLoop() {
        var attempt = 0
        while true {
            condition.lock()
            while !pending, !closing { condition.wait() }
            if closing {
                condition.unlock()
                return
            }
            pending = false
            busy = true
            condition.unlock()

            var error: DaybookError?
            do {
                while let finished = try sink.value.finishNextClosingWindow() {
                    logger.info(
                        "window closed",
                        metadata: [
                            LogKey.windowStart: "\(finished.window.start)", LogKey.windowEnd: "\(finished.window.end)",
                            LogKey.reason: "\(finished.closedBy)", LogKey.keys: "\(finished.keys)",
                            LogKey.sinkMilliseconds: "\(Int((finished.duration / .milliseconds(1)).rounded()))",
                        ]
                    )
                    do { try sink.value.indexClosedWindow(finished.window) } catch {
                        logger.warning(
                            "could not index a closed window's keys; paging through them stays slow",
                            metadata: [
                                LogKey.windowStart: "\(finished.window.start)", LogKey.error: "\(error.message)",
                            ]
                        )
                    }
                    if isClosing { break }
                }
            } catch let caught {
                error = caught
            }

            condition.lock()
            busy = false
            if let error {
                attempt += 1
                // A lost connection is the session's to notice and restart; anything else
                // keeps the window waiting, said once per attempt, and is tried again.
                failure = error.isRetryable && attempt < 5 ? nil : error
                pending = true
            } else {
                attempt = 0
                failure = nil
            }
            condition.broadcast()
            condition.unlock()
            if let error {
                logger.warning(
                    "could not finish a closed window; it stays 'closing' and is tried again",
                    metadata: [LogKey.error: "\(error.message)", LogKey.attempt: "\(attempt)"]
                )
                let deadline = Date().addingTimeInterval(retryDelaySeconds(attempt: attempt))
                while Date() < deadline, !isClosing { Thread.sleep(forTimeInterval: 0.05) }
            }
        }
    }

    private var isClosing: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closing
    }
}

/// Holds the finisher's sink for its thread (libpq connections have one owner).
private final class FinisherSinkBox: @unchecked Sendable {
    let value: Sink
    init(_ value: Sink) { self.value = value }
}
