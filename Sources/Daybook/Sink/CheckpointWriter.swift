import DaybookCore
import Foundation
import Synchronization
import WAL

/// Writes checkpoints and spills to the sink on a thread of its own, one at a time and in
/// order, so that the session keeps reading the slot while the sink commits.
///
/// Reading must not stall: a client that stops reading makes the walsender fall off its fast
/// path (it then polls the socket for every message it sends) and the slot falls behind.
/// With this writer the session builds batch N+1 while batch N commits; it waits only when
/// one write is in flight and another is already queued (back-pressure), and it confirms the
/// slot only up to what ``takeCompleted()`` reports as committed, so exactly-once holds as
/// before: nothing is confirmed that the sink does not have.
///
/// libpq blocks, so the writer owns a dedicated thread and the ``Sink`` (and its connection)
/// outright from ``init(sink:)`` on. The session and the thread share only the state below,
/// always under `condition`'s lock.
final class CheckpointWriter: @unchecked Sendable {
    /// One sink transaction's worth of work.
    enum Write: Sendable {
        case checkpoint(Checkpoint)
        case spill(Spill)
        /// Chunks of streamed transactions, held until their commit.
        case stage([StreamedTransactions.Chunk])
        /// The held chunks of a streamed transaction that rolled back.
        case discardStreamed(xid: UInt32)
        /// The checkpoint moved over an idle stretch (``Sink/advanceCheckpoint(to:)``).
        case advance(lsn: LSN)
    }

    /// A write the sink has committed; `checkpoint` is nil for the other kinds.
    struct Committed: Sendable {
        var checkpoint: (lsn: LSN, closed: [WindowClosure], changes: Int, transactions: Int)?
    }

    private let condition = NSCondition()
    /// Writes finished (committed or failed), readable without the lock: the session checks
    /// it on every loop turn and takes the lock only when it moved.
    private let finishedCount = Atomic<Int>(0)
    // Shared state, guarded by `condition`:
    private var queue: [Write] = []
    private var writing = false
    private var committed: [Committed] = []
    private var failure: DaybookError?
    private var closing = false
    /// The sink, touched only by the writer thread once it has started.
    private let sink: SinkBox

    /// How many writes may wait behind the one in flight before ``submit(_:)`` blocks.
    private let queueLimit = 1

    private let metrics: PipelineMetrics
    private let health: ServiceHealth

    /// Takes ownership of `sink` and starts the writer thread.
    init(sink: Sink, metrics: PipelineMetrics = PipelineMetrics(), health: ServiceHealth = ServiceHealth()) {
        self.sink = SinkBox(sink)
        self.metrics = metrics
        self.health = health
        let thread = Thread { [self] in runLoop() }
        thread.name = "daybook-sink"
        thread.start()
    }

    /// Queues a write; blocks while the queue is full.
    ///
    /// - Parameter waiting: called about once a second while blocked, without the lock: a
    ///   long sink transaction (folding a big day at its close) must not keep the session
    ///   from answering the server, which ends a silent replication connection after
    ///   `wal_sender_timeout`.
    /// - Throws: the error of an earlier write that failed: the session must restart from
    ///   the sink's checkpoint.
    func submit(_ write: Write, waiting: () throws -> Void) throws {
        try wait(until: { queue.count < queueLimit }, waiting: waiting)
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        queue.append(write)
        condition.broadcast()
    }

    /// How many writes have finished so far (see ``takeCompleted()``).
    var finishedWrites: Int { finishedCount.load(ordering: .acquiring) }

    /// The writes committed since the last call, oldest first.
    ///
    /// - Throws: the error of a write that failed.
    func takeCompleted() throws(DaybookError) -> [Committed] {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        defer { committed.removeAll() }
        return committed
    }

    /// Waits until everything submitted has been written (or a write failed); `waiting` as
    /// for ``submit(_:waiting:)``.
    func drain(waiting: () throws -> Void) throws {
        try wait(until: { queue.isEmpty && !writing }, waiting: waiting)
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
    }

    /// Waits, under the lock, until `ready` holds or a write failed, calling `waiting`
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

    /// Stops the thread once the write in progress has ended, and waits for that: a session
    /// that reconnects must not load the checkpoint while an older write may still move it.
    /// Queued writes are dropped (the slot was not confirmed for them, so they come again).
    func close() {
        condition.lock()
        closing = true
        queue.removeAll()
        condition.broadcast()
        while writing { condition.wait() }
        condition.unlock()
    }

    private func runLoop() {
        while true {
            condition.lock()
            while queue.isEmpty, !closing { condition.wait() }
            if closing {
                condition.unlock()
                return
            }
            let write = queue.removeFirst()
            writing = true
            // A submit waiting for room may go on now, while this write runs.
            condition.broadcast()
            condition.unlock()

            var result: Result<Committed, DaybookError>
            do {
                switch write {
                case .checkpoint(let checkpoint):
                    let started = ContinuousClock.now
                    try sink.value.write(checkpoint)
                    metrics.checkpointCommitted(checkpoint, duration: .now - started)
                    result = .success(
                        Committed(
                            checkpoint: (
                                checkpoint.lsn, checkpoint.closed, checkpoint.batch.changeCount, checkpoint.transactions
                            )
                        )
                    )
                case .spill(let spill):
                    try sink.value.write(spill)
                    metrics.lateChangesCommitted(spill.late)
                    result = .success(Committed(checkpoint: nil))
                case .stage(let stage):
                    try sink.value.write(stage)
                    result = .success(Committed(checkpoint: nil))
                case .discardStreamed(let xid):
                    try sink.value.discardStreamed(xid: xid)
                    result = .success(Committed(checkpoint: nil))
                case .advance(let lsn):
                    try sink.value.advanceCheckpoint(to: lsn)
                    result = .success(Committed(checkpoint: (lsn, [], 0, 0)))
                }
                health.sinkCommitted()
            } catch {
                metrics.sinkFailed()
                health.sinkFailed(error.publicMessage)
                result = .failure(error)
            }

            condition.lock()
            writing = false
            switch result {
            case .success(let done): committed.append(done)
            case .failure(let error): failure = failure ?? error
            }
            finishedCount.add(1, ordering: .releasing)
            condition.broadcast()
            let stop = failure != nil
            condition.unlock()
            if stop { return }
        }
    }
}

/// Holds the sink for the writer thread. The sink is not `Sendable` (libpq connections have
/// one owner); it is handed over once, before the thread starts, and used by that thread only.
private final class SinkBox: @unchecked Sendable {
    let value: Sink
    init(_ value: Sink) { self.value = value }
}
