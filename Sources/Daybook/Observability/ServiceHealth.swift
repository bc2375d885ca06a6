import Foundation
import Synchronization

/// What `/healthz` and `/readyz` answer from: the replication pipeline's phase, its last sign
/// of progress and its last sink failure, written by the pipeline's thread and read by the
/// HTTP server's tasks.
///
/// A `Mutex`, not an actor: the writer is a blocking libpq thread that must never wait for
/// the async world, and every access is a few field copies.
public final class ServiceHealth: Sendable {
    /// Where the pipeline is.
    public enum Phase: Sendable, Equatable {
        /// Connecting, checking the source and sink, loading the checkpoint.
        case starting
        /// Reading a backlog through SQL decoding (backlog mode); changes flow.
        case readingBacklog
        /// START_REPLICATION succeeded; changes flow.
        case streaming
        /// A connection was lost; waiting before retry `attempt`.
        case reconnecting(attempt: Int, reason: String)
        /// The pipeline ended (stopped, caught up, or failed).
        case stopped
    }

    /// One answer of ``readiness(now:)``.
    public struct Readiness: Sendable, Equatable {
        public var isReady: Bool
        /// Per check ("source", "sink", "loop"), what it found: "ok" or why not.
        public var checks: [String: String]

        public init(isReady: Bool, checks: [String: String]) {
            self.isReady = isReady
            self.checks = checks
        }
    }

    private struct State {
        var phase = Phase.starting
        var lastProgress = ContinuousClock.now
        var sinkFailure: String?
        var hasStarted = false
    }

    private let state = Mutex(State())
    /// A loop that shows no progress for this long is stuck: not ready, and not alive.
    public let stuckAfter: Duration

    public init(stuckAfter: Duration = .seconds(60)) {
        self.stuckAfter = stuckAfter
    }

    func setPhase(_ phase: Phase) {
        state.withLock {
            $0.phase = phase
            $0.lastProgress = .now
            // Streaming again means the sink was reached and its checkpoint loaded.
            if phase == .streaming || phase == .readingBacklog {
                $0.sinkFailure = nil
                $0.hasStarted = true
            }
        }
    }

    /// The loop turned: it read, wrote or waited as it should.
    func progressed() {
        state.withLock { $0.lastProgress = .now }
    }

    func sinkCommitted() {
        state.withLock {
            $0.sinkFailure = nil
            $0.lastProgress = .now
        }
    }

    func sinkFailed(_ message: String) {
        state.withLock { $0.sinkFailure = message }
    }

    public var phase: Phase { state.withLock { $0.phase } }

    /// Changes have flowed at least once: the source and the sink passed the start's checks.
    public var hasStarted: Bool { state.withLock { $0.hasStarted } }

    /// Alive: the pipeline's loop shows progress (reading, writing, or waiting out a
    /// reconnect), or it has ended on purpose. A process that answers but whose loop is stuck
    /// is not alive: an orchestrator should restart it.
    public func isAlive(now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { $0.phase == .stopped || now - $0.lastProgress < stuckAfter }
    }

    /// Ready: streaming from the source, the last sink write succeeded, and the loop shows
    /// progress. Anything else (starting, reconnecting, a failed sink write, a stuck loop)
    /// is not ready, with the reason per check. `/readyz` shows the reasons to any client, so
    /// they are ``DaybookError/publicMessage``s: the kind of trouble, not the server's text.
    public func readiness(now: ContinuousClock.Instant = .now) -> Readiness {
        let current = state.withLock { $0 }
        var checks: [String: String] = [:]
        switch current.phase {
        case .streaming, .readingBacklog: checks["source"] = "ok"
        case .starting: checks["source"] = "connecting"
        case .reconnecting(let attempt, let reason): checks["source"] = "reconnecting (attempt \(attempt)): \(reason)"
        case .stopped: checks["source"] = "stopped"
        }
        checks["sink"] = current.sinkFailure.map { "failed: \($0)" } ?? "ok"
        let idle = now - current.lastProgress
        checks["loop"] = idle < stuckAfter ? "ok" : "no progress for \(Int(idle.components.seconds)) s"
        return Readiness(isReady: checks.values.allSatisfy { $0 == "ok" }, checks: checks)
    }
}
