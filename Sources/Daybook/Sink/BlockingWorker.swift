import DaybookCore
import Foundation
import Synchronization

/// A thread of its own, and the one resource only it may touch, for work that blocks: the
/// sink's writes (``CheckpointWriter``) and the closing of windows (``WindowFinisher``), each
/// over a libpq connection of its own.
///
/// Why a thread and not Swift's cooperative pool: a libpq call holds its thread for as long as
/// the server takes (a checkpoint, or the fold of a day of millions of keys, which takes
/// minutes). The cooperative pool has a thread per core, two on a small machine; two such
/// calls there would stall every task of the process, the HTTP side's included. The stream
/// session itself reads the slot on a thread of its own for the same reason.
///
/// Jobs run one at a time, in the order they were submitted. At most `queueLimit` wait behind
/// the one running: ``submit(_:waiting:)`` blocks beyond that (back-pressure), calling its
/// `waiting` about once a second so that its caller can keep answering the server. What a job
/// returns is collected for ``takeOutputs()``. A failed job is handled as `onFailure` says:
/// stop (the error is handed to every later call) or try again after a delay.
final class BlockingWorker<Resource, Job: Sendable, Output: Sendable>: @unchecked Sendable {
    // @unchecked Sendable, and safe: every shared field below is read and written only under
    // `condition`'s lock (`finishedCount` is atomic), and `resource` is handed over before the
    // thread starts and touched by that thread alone, through `perform`.

    /// What to do after a job failed.
    enum FailureAction {
        /// Keep the error: every later call throws it, and the worker runs no further job.
        case stop
        /// Run the job again after `delay` seconds (sooner if the worker closes). With
        /// `report`, calls throw the error meanwhile, until a job succeeds.
        case retry(after: Double, report: Bool)
    }

    private let condition = NSCondition()
    private let finishedCount = Atomic<Int>(0)
    private var queue: [Job] = []
    private var running = false
    private var outputs: [Output] = []
    private var failure: DaybookError?
    private var closing = false

    private let resource: Resource
    private let queueLimit: Int
    /// Runs one job on the worker's thread; the closure it is given tells whether the worker
    /// is closing, so that a long job can stop between its steps.
    private let perform: (Resource, Job, _ isClosing: () -> Bool) throws(DaybookError) -> Output
    private let onFailure: (DaybookError, _ attempt: Int) -> FailureAction

    /// Takes ownership of `resource` and starts the thread, named `name` (as `top -H` shows it).
    init(
        name: String,
        owning resource: Resource,
        queueLimit: Int,
        perform: @escaping (Resource, Job, _ isClosing: () -> Bool) throws(DaybookError) -> Output,
        onFailure: @escaping (DaybookError, _ attempt: Int) -> FailureAction = { _, _ in .stop }
    ) {
        self.resource = resource
        self.queueLimit = queueLimit
        self.perform = perform
        self.onFailure = onFailure
        let thread = Thread { [self] in runLoop() }
        thread.name = name
        thread.start()
    }

    /// Queues `job`; blocks while the queue is full, calling `waiting` (without the lock)
    /// after every second of it.
    ///
    /// - Throws: the error that stopped the worker, or what `waiting` threw.
    func submit(_ job: Job, waiting: () throws -> Void) throws {
        try wait(until: { queue.count < queueLimit }, waiting: waiting)
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        queue.append(job)
        condition.broadcast()
    }

    /// Queues `job` unless one already waits (it will see whatever this one would have):
    /// never blocks, for a caller that only says "there is work".
    func wake(_ job: Job) {
        condition.lock()
        defer { condition.unlock() }
        guard !closing, queue.isEmpty else { return }
        queue.append(job)
        condition.broadcast()
    }

    /// How many jobs have finished so far, read without the lock: a caller checks it on every
    /// turn of its loop and takes the lock (``takeOutputs()``) only when it moved.
    var finishedJobs: Int { finishedCount.load(ordering: .acquiring) }

    /// What the jobs finished since the last call returned, oldest first.
    ///
    /// - Throws: the error that stopped the worker (or, while retrying, the last one).
    func takeOutputs() throws(DaybookError) -> [Output] {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        defer { outputs.removeAll() }
        return outputs
    }

    /// What the jobs finished since the last call returned, oldest first, waiting until there
    /// is at least one (or the worker failed); `waiting` as for ``submit(_:waiting:)``.
    func waitForOutputs(waiting: () throws -> Void) throws -> [Output] {
        try wait(until: { !outputs.isEmpty }, waiting: waiting)
        return try takeOutputs()
    }

    /// Waits until every job submitted has run; `waiting` as for ``submit(_:waiting:)``.
    func drain(waiting: () throws -> Void = {}) throws {
        try wait(until: { queue.isEmpty && !running }, waiting: waiting)
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
    }

    /// Whether ``close()`` was called.
    var isClosing: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closing
    }

    /// Stops the thread once the job running (if any) has ended, and waits for that; queued
    /// jobs are dropped. A caller that reconnects must not read the sink while an older job
    /// may still change it.
    func close() {
        condition.lock()
        closing = true
        queue.removeAll()
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }

    /// Waits, under the lock, until `ready` holds or the worker failed, calling `waiting`
    /// (outside the lock) after every second of it.
    private func wait(until ready: () -> Bool, waiting: () throws -> Void) throws {
        condition.lock()
        while failure == nil, !ready() {
            if !condition.wait(until: Date(timeIntervalSinceNow: 1)), failure == nil, !ready() {
                condition.unlock()
                try waiting()  // on a throw the lock is already released
                condition.lock()
            }
        }
        condition.unlock()
    }

    private func runLoop() {
        var attempt = 0
        while true {
            condition.lock()
            while queue.isEmpty, !closing { condition.wait() }
            if closing {
                condition.unlock()
                return
            }
            let job = queue.removeFirst()
            running = true
            // A submit waiting for room may go on now, while this job runs.
            condition.broadcast()
            condition.unlock()

            let result: Result<Output, DaybookError>
            do throws(DaybookError) { result = .success(try perform(resource, job) { isClosing }) } catch {
                result = .failure(error)
            }

            var retryDelay: Double?
            condition.lock()
            running = false
            switch result {
            case .success(let output):
                attempt = 0
                outputs.append(output)
                failure = nil
            case .failure(let error):
                attempt += 1
                switch onFailure(error, attempt) {
                case .stop:
                    failure = failure ?? error
                case .retry(let delay, let report):
                    if report { failure = error }
                    retryDelay = delay
                    if !closing { queue.insert(job, at: 0) }
                }
            }
            finishedCount.add(1, ordering: .releasing)
            condition.broadcast()
            let stop = retryDelay == nil && failure != nil
            condition.unlock()
            if stop { return }
            if let retryDelay { pause(seconds: retryDelay) }
        }
    }

    /// Sleeps up to `seconds`, waking early when the worker closes.
    private func pause(seconds: Double) {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        while !closing, condition.wait(until: deadline) {}
        condition.unlock()
    }
}
