import DaybookCore
import PostgresReplication
import WAL
import Windowing

/// Writes a checkpoint's value events on a second sink connection, in a transaction of their
/// own that commits just before the checkpoint's, so that two sink backends store a checkpoint
/// at once: the events on this one, the per-key rows and the rest on the sink's own.
///
/// Why: at `values` the sink server's storing of the rows is the limit of a catch-up. On one
/// connection its backend stores them one after the other on one core (2.4–2.6 s per million
/// changes, the wall's critical path); on two, the events (the larger half) and the per-key
/// rows are stored side by side.
///
/// Exactly once is kept as for the parts of a large transaction written ahead of its commit:
/// the events' transaction first marks the checkpoint row as pending (`pending_lsn`). Should
/// the checkpoint that covers the events then fail, or the process die, the next start deletes
/// every row after the checkpoint (``Sink/loadState()``), and the slot sends them again. The
/// marking also checks the checkpoint is still the one this process expects, as the
/// checkpoint's own fence does. The checkpoint's transaction takes its fence (a lock on the
/// same row) only after the events committed, and the checkpoint clears the mark.
final class EventsAheadWriter: Sendable {
    /// One checkpoint's events.
    struct Job: Sendable {
        let events: ValueEventLog
        let tableNames: [String]
        let attributions: [Attribution]
        /// The checkpoint the sink must still hold: any other means another writer.
        let expectedLSN: LSN
    }

    /// The connection and the encoder, touched by the worker's thread only.
    private final class Resource {
        let connection: PostgresConnection
        let slot: String
        let rows: ValueEventRows
        var encoder = BinaryCopyEncoder(reservingCapacity: ValueEventRows.copyBlockBytes + (64 << 10))

        init(connection: PostgresConnection, slot: String) {
            self.connection = connection
            self.slot = slot
            self.rows = ValueEventRows(slotBytes: Array(slot.utf8))
        }
    }

    /// Fewest events for which a checkpoint's events go ahead on the second connection: below,
    /// a transaction of their own (one more commit for the sink to make durable) costs more
    /// than it saves.
    static let minimumEvents = 1_000

    private let worker: BlockingWorker<Resource, Job, Int>

    /// Takes ownership of `connection` (a sink connection of its own) and starts the thread.
    init(connection: PostgresConnection, slot: String) {
        worker = BlockingWorker(
            name: "daybook-events",
            owning: Resource(connection: connection, slot: slot),
            queueLimit: 1
        ) { resource, job, _ throws(DaybookError) in
            try Self.write(job, on: resource)
        }
    }

    /// Starts writing a checkpoint's events; ``waitUntilCommitted()`` says when they are in.
    func start(_ job: Job) throws {
        try worker.submit(job, waiting: {})
    }

    /// Waits until the events started last are committed.
    ///
    /// - Returns: how many events were written (taken from the worker, which would otherwise
    ///   keep every checkpoint's count for as long as the service runs).
    /// - Throws: why they could not be (their transaction rolled back).
    @discardableResult
    func waitUntilCommitted() throws -> Int {
        try worker.drain()
        return try worker.takeOutputs().reduce(0, +)
    }

    /// Stops the thread once a write in progress has ended, and waits for that.
    func close() {
        worker.close()
    }

    private static func write(_ job: Job, on resource: Resource) throws(DaybookError) -> Int {
        do {
            try resource.connection.withTransaction {
                let marked = try resource.connection.query(
                    """
                    UPDATE daybook.checkpoint SET pending_lsn = coalesce(pending_lsn, lsn)
                     WHERE slot_name = $1 AND lsn = $2::pg_lsn
                    """,
                    [resource.slot, job.expectedLSN.description]
                ).affectedRows
                guard marked == 1 else { throw Sink.checkpointMoved(slot: resource.slot) }
                resource.encoder.reset()
                try resource.rows.copy(
                    job.events,
                    tableNames: job.tableNames,
                    attributions: job.attributions,
                    on: resource.connection,
                    encoder: &resource.encoder
                )
            }
        } catch {
            throw Sink.writeError(error)
        }
        return job.events.count
    }
}
