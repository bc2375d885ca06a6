import DaybookCore
import Foundation
import Synchronization
import Testing

@testable import Daybook

/// The worker shape behind the checkpoint writer and the window finisher, with plain values:
/// order, back-pressure, failure, retries and closing. Nothing here waits on a clock to be
/// right: every step that must happen first is made to happen first.
struct BlockingWorkerTests {
    /// What the jobs saw, in the order they ran.
    private final class Log: Sendable {
        private let entries = Mutex<[Int]>([])
        func append(_ value: Int) { entries.withLock { $0.append(value) } }
        var all: [Int] { entries.withLock { $0 } }
    }

    /// Says yes `count` times, then no.
    private final class Countdown: Sendable {
        private let remaining: Mutex<Int>
        init(_ count: Int) { remaining = Mutex(count) }
        func next() -> Bool {
            remaining.withLock { remaining in
                defer { remaining -= 1 }
                return remaining > 0
            }
        }
    }

    /// A job that waits until it is let go, so that a test decides when it ends.
    private struct Gate: Sendable {
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
    }

    private enum Job: Sendable {
        case value(Int)
        case gated(Int, Gate)
        case fail(String)
    }

    private static func worker(
        _ log: Log,
        queueLimit: Int = 1,
        onFailure: @escaping (DaybookError, Int) -> BlockingWorker<Log, Job, Int>.FailureAction = { _, _ in .stop }
    ) -> BlockingWorker<Log, Job, Int> {
        BlockingWorker(
            name: "test-worker",
            owning: log,
            queueLimit: queueLimit,
            perform: { log, job, _ throws(DaybookError) in
                switch job {
                case .value(let value):
                    log.append(value)
                    return value
                case .gated(let value, let gate):
                    gate.started.signal()
                    gate.release.wait()
                    log.append(value)
                    return value
                case .fail(let message):
                    throw DaybookError(.query, message)
                }
            },
            onFailure: onFailure
        )
    }

    @Test func jobsRunOneAtATimeInOrderAndTheirOutputsAreCollected() throws {
        let log = Log()
        let worker = Self.worker(log)
        defer { worker.close() }
        for value in 1...5 { try worker.submit(.value(value)) {} }
        try worker.drain()
        #expect(log.all == [1, 2, 3, 4, 5])
        #expect(try worker.takeOutputs() == [1, 2, 3, 4, 5])
        #expect(try worker.takeOutputs() == [], "taken once")
        #expect(worker.finishedJobs == 5)
    }

    /// One job runs and one waits; the next submit blocks, and keeps calling its `waiting`
    /// (where the session answers the server) until there is room.
    @Test func aFullQueueBlocksTheSubmitterWhoKeepsBeingCalledBack() throws {
        let log = Log()
        let worker = Self.worker(log, queueLimit: 1)
        defer { worker.close() }
        let gate = Gate()
        try worker.submit(.gated(1, gate)) {}
        gate.started.wait()
        try worker.submit(.value(2)) { Issue.record("room for one waiting job") }
        var callbacks = 0
        try worker.submit(.value(3)) {
            callbacks += 1
            gate.release.signal()  // the running job ends only once the submitter has waited
        }
        #expect(callbacks == 1)
        try worker.drain()
        #expect(log.all == [1, 2, 3])
    }

    /// A failed write stops the writer: every later call says why, and nothing else runs.
    @Test func aFailureStopsTheWorkerAndEveryLaterCallThrowsIt() throws {
        let log = Log()
        let worker = Self.worker(log)
        defer { worker.close() }
        try worker.submit(.value(1)) {}
        try worker.submit(.fail("the sink went away")) {}
        #expect(throws: DaybookError.self) { try worker.drain() }
        #expect(throws: DaybookError.self) { try worker.takeOutputs() }
        #expect(throws: DaybookError.self) { try worker.submit(.value(2)) {} }
        #expect(log.all == [1])
    }

    /// The finisher's policy: a job that fails is run again; while it keeps failing
    /// permanently, `drain` says so instead of waiting for ever; once it succeeds, all is well.
    @Test func aRetriedJobRunsAgainAndDrainReportsOnlyWhatItWasToldTo() throws {
        let log = Log()
        let failures = Countdown(2)
        let worker = BlockingWorker<Log, Int, Int>(
            name: "test-retry",
            owning: log,
            queueLimit: 1,
            perform: { log, value, _ throws(DaybookError) in
                if failures.next() { throw DaybookError(.query, "not yet", retryable: true) }
                log.append(value)
                return value
            },
            onFailure: { _, _ in .retry(after: 0, report: false) }
        )
        defer { worker.close() }
        try worker.submit(7) {}
        try worker.drain()
        #expect(log.all == [7], "run three times, counted once")
        #expect(try worker.takeOutputs() == [7])

        let reporting = BlockingWorker<Log, Int, Int>(
            name: "test-report",
            owning: log,
            queueLimit: 1,
            perform: { _, _, _ throws(DaybookError) in
                throw DaybookError(.query, "never")
            },
            onFailure: { _, attempt in .retry(after: 0.01, report: attempt >= 3) }
        )
        defer { reporting.close() }
        try reporting.submit(1) {}
        #expect(throws: DaybookError.self) { try reporting.drain() }
    }

    /// `wake` adds a job only when none waits: a checkpoint that closes windows while the
    /// finisher is busy asks once for one more pass, not once per checkpoint.
    @Test func wakeAddsAJobOnlyWhenNoneWaits() throws {
        let log = Log()
        let worker = Self.worker(log, queueLimit: 1)
        defer { worker.close() }
        let gate = Gate()
        worker.wake(.gated(1, gate))
        gate.started.wait()
        worker.wake(.value(2))
        worker.wake(.value(3))
        gate.release.signal()
        try worker.drain()
        #expect(log.all == [1, 2])
    }

    /// Closing waits for the job that runs (a reconnecting session must not read the sink
    /// while an older write may still move it) and drops the queued ones.
    @Test func closeWaitsForTheRunningJobAndDropsTheQueued() throws {
        let log = Log()
        let worker = Self.worker(log, queueLimit: 1)
        let gate = Gate()
        try worker.submit(.gated(1, gate)) {}
        gate.started.wait()
        try worker.submit(.value(2)) {}
        let closed = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            worker.close()
            closed.signal()
        }
        // Let go only once close() has begun: it must then still be waiting.
        while !worker.isClosing { Thread.sleep(forTimeInterval: 0.001) }
        #expect(closed.wait(timeout: .now()) == .timedOut, "close waits for the running job")
        gate.release.signal()
        closed.wait()
        #expect(log.all == [1], "the queued job was dropped")
        #expect(worker.isClosing)
    }
}
