import DaybookCore
import Foundation
import PostgresReplication
import Synchronization
import WAL

/// Has the server decode the backlog's next range while Daybook processes the current one:
/// a connection and a thread of their own, reading a temporary copy of the slot.
///
/// Why a copy: a read of the slot itself starts at its confirmed position, and that position
/// may move only to what the sink has committed (exactly once); reading ahead of the sink
/// needs a slot that may move ahead. The copy is made at the slot's position when the backlog
/// read starts, read with `pg_logical_slot_get_binary_changes` (each read moves it past what
/// it returned), and dropped by the server when this connection ends, a crash included. The
/// slot itself is still advanced only to what the sink committed, by the caller.
///
/// Why not two reads at once on two copies: each read decodes from its slot's restart
/// position, so a second reader would decode the first one's WAL again; the server would do
/// up to twice the work for the same output. One reader, a range or two ahead, keeps the
/// server decoding on one core while Daybook processes on another, and what it decodes again
/// is only what lies behind each read's start (see ``BacklogPlan/rangeBytes(decodedAgain:)``).
final class AheadDecoder {
    private let worker: BlockingWorker<SQLDecodingReader, LSN, RangeRead>
    /// Ranges submitted and not yet taken.
    private(set) var pendingCount = 0
    /// Ranges read and not yet taken, oldest first.
    private var read: [RangeRead] = []

    /// How many ranges may be asked for ahead of the one being processed. Two keep the server
    /// decoding while Daybook takes the one it just finished; ranges past ``DecodedRange/memoryLimit``
    /// wait in temporary files, not in memory.
    static let depth = 2

    /// Opens the connection, copies `slot` there, and starts the thread.
    ///
    /// - Throws: the server's error when it cannot give a connection or a slot (connection
    ///   limits, `max_replication_slots` all in use): the caller reads without overlap.
    init(slot: String, context: RunContext) throws(PostgresError) {
        let configuration = context.configuration
        let connection = try PostgresConnection(
            configuration.source,
            applicationName: BacklogPlan.applicationName(slot: slot)
        )
        let allowed = try connection.query(
            """
            SELECT has_function_privilege('pg_catalog.pg_logical_slot_get_binary_changes(name, pg_lsn, integer, text[])', 'EXECUTE')
                   AND has_function_privilege('pg_catalog.pg_copy_logical_replication_slot(name, name, boolean)', 'EXECUTE')
            """
        ).scalar
        guard allowed == "t" else {
            throw PostgresError(
                .query,
                message: "the role may not call pg_logical_slot_get_binary_changes or pg_copy_logical_replication_slot",
                sqlState: "42501"
            )
        }
        let copy = BacklogPlan.temporaryCopyName(slot: slot, nonce: UInt32.random(in: 0...UInt32.max))
        try SQLDecodingReader.createTemporaryCopy(of: slot, named: copy, on: connection)
        let reader = try SQLDecodingReader(
            connection: connection,
            slot: copy,
            publications: configuration.publications,
            reading: .consume
        )
        let health = context.health
        let ended = EndedReading()
        worker = BlockingWorker(name: "daybook-decode", owning: reader, queueLimit: Self.depth) {
            reader,
            end,
            isClosing throws(DaybookError) in
            // A read that ended in an error also dropped the copy (the server drops a session's
            // temporary slots at any error): the ranges asked for after it get the same answer.
            if let reason = ended.reason.withLock({ $0 }) { return .unavailable(reason: reason) }
            let read = try reader.collect(upTo: end, shouldStop: isClosing, alive: { health.progressed() })
            if case .unavailable(let reason) = read { ended.reason.withLock { $0 = reason } }
            return read
        }
    }

    /// Why reading ahead ended, once it has: read and written on the worker's thread only.
    private final class EndedReading: Sendable {
        let reason = Mutex<String?>(nil)
    }

    deinit { worker.close() }

    /// Whether another range may be asked for now.
    var hasRoom: Bool { pendingCount < Self.depth }

    /// Asks for the range up to `end`, after the ones pending.
    func submit(upTo end: LSN) throws {
        precondition(hasRoom, "submit() beyond the decoder's depth")
        try worker.submit(end, waiting: {})
        pendingCount += 1
    }

    /// The oldest pending range, once read; `waiting` is called once a second meanwhile.
    func next(waiting: () throws -> Void) throws -> RangeRead {
        precondition(pendingCount > 0, "next() without a pending range")
        if read.isEmpty { read = try worker.waitForOutputs(waiting: waiting) }
        pendingCount -= 1
        return read.removeFirst()
    }

    /// Ends the read running, if any (within a second), and lets go of the connection, which
    /// drops the copy.
    func close() { worker.close() }
}
