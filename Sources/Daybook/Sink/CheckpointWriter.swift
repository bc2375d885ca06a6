import DaybookCore
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
/// libpq blocks, so the writer is a ``BlockingWorker``: a thread of its own that owns the
/// ``Sink`` (and its connection) outright from ``init(sink:context:)`` on.
final class CheckpointWriter: Sendable {
    /// A write the sink has committed; `checkpoint` is nil for the other kinds.
    struct Committed: Sendable {
        var checkpoint: (lsn: LSN, closed: [WindowClosure], changes: Int, transactions: Int)?
    }

    /// One write may wait behind the one in flight before ``submit(_:waiting:)`` blocks.
    private let worker: BlockingWorker<Sink, SinkWrite, Committed>

    /// Takes ownership of `sink` and starts the writer thread; it counts into the run's
    /// metrics and tells its health whether the sink commits.
    init(sink: Sink, context: RunContext) {
        let metrics = context.metrics
        let health = context.health
        worker = BlockingWorker(name: "daybook-sink", owning: sink, queueLimit: 1) {
            sink,
            write,
            _ throws(DaybookError) in
            do throws(DaybookError) {
                let committed = try Self.perform(write, on: sink, metrics: metrics)
                health.sinkCommitted()
                return committed
            } catch {
                metrics.sinkFailed()
                health.sinkFailed(error.publicMessage)
                throw error
            }
        }
    }

    /// Queues a write; blocks while the queue is full.
    ///
    /// - Parameter waiting: called about once a second while blocked, without the lock: a
    ///   long sink transaction (folding a big day at its close) must not keep the session
    ///   from answering the server, which ends a silent replication connection after
    ///   `wal_sender_timeout`.
    /// - Throws: the error of an earlier write that failed: the session must restart from
    ///   the sink's checkpoint.
    func submit(_ write: SinkWrite, waiting: () throws -> Void) throws {
        try worker.submit(write, waiting: waiting)
    }

    /// How many writes have finished so far (see ``takeCompleted()``).
    var finishedWrites: Int { worker.finishedJobs }

    /// The writes committed since the last call, oldest first.
    ///
    /// - Throws: the error of a write that failed.
    func takeCompleted() throws(DaybookError) -> [Committed] {
        try worker.takeOutputs()
    }

    /// Waits until everything submitted has been written (or a write failed); `waiting` as
    /// for ``submit(_:waiting:)``.
    func drain(waiting: () throws -> Void) throws {
        try worker.drain(waiting: waiting)
    }

    /// Stops the thread once the write in progress has ended, and waits for that: a session
    /// that reconnects must not load the checkpoint while an older write may still move it.
    /// Queued writes are dropped (the slot was not confirmed for them, so they come again).
    func close() {
        worker.close()
    }

    private static func perform(
        _ write: SinkWrite,
        on sink: Sink,
        metrics: PipelineMetrics
    ) throws(DaybookError) -> Committed {
        switch write {
        case .checkpoint(let checkpoint):
            let started = ContinuousClock.now
            try sink.write(checkpoint)
            metrics.checkpointCommitted(checkpoint, duration: .now - started)
            return Committed(
                checkpoint: (checkpoint.lsn, checkpoint.closed, checkpoint.batch.changeCount, checkpoint.transactions)
            )
        case .spill(let spill):
            try sink.write(spill)
            metrics.lateChangesCommitted(spill.late)
            return Committed(checkpoint: nil)
        case .stage(let stage):
            try sink.write(stage)
            return Committed(checkpoint: nil)
        case .discardStreamed(let xid):
            try sink.discardStreamed(xid: xid)
            return Committed(checkpoint: nil)
        case .advance(let lsn):
            try sink.advanceCheckpoint(to: lsn)
            return Committed(checkpoint: (lsn, [], 0, 0))
        }
    }
}
