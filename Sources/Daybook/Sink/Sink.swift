import DaybookCore
import Foundation
import PgOutput
import PostgresReplication
import WAL
import Windowing

/// The PostgreSQL database that holds Daybook's results, open-window state and checkpoint.
///
/// One ``write(_:)`` is one transaction: deltas, late changes, opened and closed windows and
/// the new checkpoint commit together or not at all. (A checkpoint's many value events may go
/// just before it, in a transaction of their own on a second connection, marked pending until
/// the checkpoint commits: ``EventsAheadWriter``.) Per-key rows go in with one binary COPY,
/// everything else with set-based statements over one JSON parameter each, so a checkpoint
/// costs a handful of round trips however many keys changed.
///
/// It blocks its thread (libpq) and has one owner at a time: the session while it starts,
/// then the ``CheckpointWriter`` thread.
public final class Sink {
    public let connection: PostgresConnection
    public let slot: String
    let slotBytes: [UInt8]
    public let settings: WindowSettings
    /// At close, the most events a key of a `values` table keeps (see ``KeyEventFold``).
    public var maxEventsPerKey = 1_000
    /// When windows close, also prune the per-key results of windows that ended longer ago
    /// than this (``Retention``); nil keeps everything.
    public var pruneKeep: Duration?
    /// Actor, application and origin rows kept by name per table and window
    /// (`daybook.actor_windows`); the rest are summed into one.
    static let attributionRowsKept = 100
    /// The checkpoint LSN this writer expects to find; a different one means another writer.
    var expectedLSN: LSN?
    /// Whether a gap the operator accepted waits for the first commit after it (``refineGaps(firstCommit:)``).
    var refiningGaps = false
    /// Reused between writes, so that encoding a batch allocates nothing once warm (one for
    /// per-key rows, one for events).
    private var copyEncoders = [
        BinaryCopyEncoder(reservingCapacity: 1 << 20), BinaryCopyEncoder(reservingCapacity: 1 << 20),
    ]
    /// Per open window (start in microseconds), the keys written so far (see ``SeenKeys``).
    var seenKeys: [Int64: SeenKeys] = [:]
    /// Window starts whose `key_changes` and `value_events` partitions are known to exist.
    var knownPartitions: Set<Int64> = []
    /// Slots of each window's ``SeenKeys`` at most (4 bytes each; `run --key-memory`).
    public var seenKeysMaximumSlots = 1 << 24
    /// The source server's timeline this session reads, stored with each checkpoint (see
    /// ``TimelineCheck``).
    public var sourceTimeline: Int?
    /// Opens a second sink connection for ``EventsAheadWriter``, or says (logs) why it cannot
    /// and returns nil; asked once, at the first checkpoint with enough events. Nil: the
    /// events always go on this sink's connection.
    public var openEventsConnection: (() -> PostgresConnection?)?
    private var eventsAhead: EventsAheadWriter?

    public init(connection: PostgresConnection, slot: String, settings: WindowSettings) {
        self.connection = connection
        self.slot = slot
        self.slotBytes = Array(slot.utf8)
        self.settings = settings
    }

    deinit {
        eventsAhead?.close()
    }

    func takeCopyEncoder() -> BinaryCopyEncoder {
        var encoder = copyEncoders.popLast() ?? BinaryCopyEncoder()
        encoder.reset()
        return encoder
    }

    func returnCopyEncoder(_ encoder: BinaryCopyEncoder) {
        // Keep a large buffer only while it is in steady use; one huge batch need not pin memory.
        if encoder.bytes.capacity <= 64 << 20, copyEncoders.count < 2 { copyEncoders.append(encoder) }
    }

    /// Makes this connection the only writer of the slot's results in the sink, for as long
    /// as it lives: a session-level advisory lock, released by PostgreSQL when the
    /// connection ends, also after a crash. Without it a second `daybook run` for the same
    /// slot could clean up the first one's pending parts of a large transaction before the
    /// slot itself (held by the first) turned it away.
    ///
    /// A session that reconnects may find its predecessor's connection still closing, so
    /// this waits a few seconds before it gives up.
    public func claimSlot() throws(DaybookError) {
        for attempt in 0..<20 {
            let claimed: Bool
            do {
                claimed =
                    try connection.query(
                        "SELECT pg_try_advisory_lock(hashtext('daybook.sink'), hashtext($1))",
                        [slot]
                    ).scalar == "t"
            } catch {
                throw DaybookError.from(error, role: .sink)
            }
            if claimed { return }
            if attempt < 19 { Thread.sleep(forTimeInterval: 0.25) }
        }
        throw DaybookError(
            .slotInUse,
            "another daybook process is writing slot \(slot)'s results into this sink; stop it first (one process per slot)",
            retryable: true
        )
    }

    /// Reads the checkpoint and open windows for this slot, creating the checkpoint row on
    /// first use so that the write fence has a row to lock from the very first checkpoint.
    /// Call ``claimSlot()`` first.
    public func loadState() throws -> SinkState {
        try connection.query(
            """
            INSERT INTO daybook.checkpoint (slot_name, lsn, window_length, grace, time_zone)
            VALUES ($1, '0/0', $2, $3::interval, $4) ON CONFLICT (slot_name) DO NOTHING
            """,
            [
                slot, settings.length.description, "\(settings.grace.wholeMicroseconds) microseconds",
                settings.timeZoneName,
            ]
        )
        // Nothing summarised yet (no stream time, no window; the LSN may have moved over an idle
        // stretch): the settings are this run's, so a first run stopped with the wrong
        // --time-zone does not lock it in.
        try connection.query(
            """
            UPDATE daybook.checkpoint c SET window_length = $2, grace = $3::interval, time_zone = $4
             WHERE c.slot_name = $1 AND c.stream_time IS NULL
               AND NOT EXISTS (SELECT 1 FROM daybook.windows w WHERE w.slot_name = $1)
            """,
            [
                slot, settings.length.description, "\(settings.grace.wholeMicroseconds) microseconds",
                settings.timeZoneName,
            ]
        )
        try discardUnfinishedSpill()
        try discardStreamChunks()
        knownPartitions = []
        let checkpoint = try CheckpointRow.read(slot: slot, on: connection)
        let windows = try connection.query(
            """
            SELECT daybook.to_micros(window_start), daybook.to_micros(window_end)
              FROM daybook.windows WHERE slot_name = $1 AND status = 'open' ORDER BY window_start
            """,
            [slot]
        )
        let closedThrough = try connection.query(
            "SELECT daybook.to_micros(max(window_end)) FROM daybook.windows WHERE slot_name = $1 AND status <> 'open'",
            [slot]
        ).scalar.flatMap { Int64($0) }.map { Timestamp(microsecondsSinceEpoch: $0) }
        let open = windows.rows.compactMap { row -> Window? in
            guard let start = row[0].flatMap({ Int64($0) }), let end = row[1].flatMap({ Int64($0) }) else { return nil }
            return Window(start: Timestamp(microsecondsSinceEpoch: start), end: Timestamp(microsecondsSinceEpoch: end))
        }
        try rememberWrittenKeys(of: open)
        let rules = try CaptureLevels.rules(slot: slot, connection)
        let shapes = try connection.query(SinkSQL.latestTableShapes, [slot]).rows.compactMap { row -> Relation? in
            guard let oid = row[0].flatMap({ UInt32($0) }), let schema = row[1], let table = row[2],
                let identity = row[3], let columns = row[4]
            else { return nil }
            return TableShape.relation(
                oid: oid,
                schemaName: schema,
                tableName: table,
                replicaIdentity: identity,
                columns: columns
            )
        }
        let lsn = checkpoint?.lsn ?? 0
        expectedLSN = lsn
        return SinkState(
            lsn: lsn,
            streamTime: checkpoint?.streamTime,
            windowLength: checkpoint?.windowLength,
            timeZone: checkpoint?.timeZone,
            openWindows: open,
            closedThrough: closedThrough,
            lastHeartbeat: checkpoint?.lastHeartbeat,
            captureRules: rules,
            timeline: checkpoint?.timeline,
            tableShapes: shapes
        )
    }

    /// Deletes the rows of a large transaction written ahead of a commit that never reached
    /// a checkpoint (the service stopped in between): the slot sends that transaction again.
    private func discardUnfinishedSpill() throws {
        guard let checkpoint = try CheckpointRow.read(slot: slot, on: connection), checkpoint.hasUnfinishedSpill
        else { return }
        let lsn = "\(checkpoint.lsn)"
        try connection.withTransaction {
            // Only windows after the last closed one can hold pending rows: reading those
            // partitions alone keeps this independent of how much history the sink holds.
            for table in ["key_changes", "value_events"] {
                try connection.query(
                    """
                    DELETE FROM daybook.\(table)
                     WHERE slot_name = $1 AND lsn >= $2::pg_lsn
                       AND window_start >= coalesce((SELECT max(window_end) FROM daybook.windows
                                                      WHERE slot_name = $1 AND status <> 'open'), '-infinity')
                    """,
                    [slot, lsn]
                )
            }
            try connection.query(
                "DELETE FROM daybook.late_changes WHERE slot_name = $1 AND commit_lsn >= $2::pg_lsn",
                [slot, lsn]
            )
            try connection.query("UPDATE daybook.checkpoint SET pending_lsn = NULL WHERE slot_name = $1", [slot])
        }
    }

    /// Writes one checkpoint in one transaction; with many events, those in a transaction of
    /// their own on a second connection, committed just before it (``EventsAheadWriter``).
    public func write(_ checkpoint: Checkpoint) throws(DaybookError) {
        let keys = encodeKeyChanges(
            checkpoint.batch.keyTable,
            tableNames: checkpoint.batch.tableNames,
            tag: checkpoint.keyTag
        )
        defer { returnCopyEncoder(keys.copy) }
        try ensurePartitions(keys.windows.union(checkpoint.batch.events.windowStarts))
        let ahead = checkpoint.batch.events.count >= EventsAheadWriter.minimumEvents ? eventsAheadWriter() : nil
        if let ahead {
            let job = EventsAheadWriter.Job(
                events: checkpoint.batch.events,
                tableNames: checkpoint.batch.tableNames,
                attributions: checkpoint.attribution.attributions,
                expectedLSN: expectedLSN ?? 0
            )
            do { try ahead.start(job) } catch { throw Self.writeError(error) }
        }
        do {
            // Fenced only once the events are in: their transaction marks the row the fence locks.
            try transaction(fenced: ahead == nil) {
                try writeBody(checkpoint, keys: keys, eventsAhead: ahead)
                try refineGaps(firstCommit: checkpoint.firstCommitTime)
                expectedLSN = checkpoint.lsn
            }
        } catch {
            // Whatever failed, the events' transaction has ended before the session goes on
            // (it reloads the checkpoint and deletes what is marked pending after it).
            _ = try? ahead?.waitUntilCommitted()
            throw error
        }
        if checkpoint.firstCommitTime != nil { refiningGaps = false }
        for window in checkpoint.closed { forgetKeys(of: window) }
    }

    /// The second connection's writer, opened at the first checkpoint with enough events;
    /// nil (events written on the sink's own connection) when it cannot be opened.
    private func eventsAheadWriter() -> EventsAheadWriter? {
        if let eventsAhead { return eventsAhead }
        guard let open = openEventsConnection else { return nil }
        openEventsConnection = nil
        guard let connection = open() else { return nil }
        eventsAhead = EventsAheadWriter(connection: connection, slot: slot)
        return eventsAhead
    }

    /// Moves the checkpoint to `lsn`, and nothing else: the session calls it when everything
    /// before `lsn` is in the sink (an idle stretch, or the end of a backlog range), before it
    /// confirms the slot there. So the slot is never confirmed past the checkpoint, and a slot
    /// ahead of it means that the sink lost commits (``SinkGap``).
    public func advanceCheckpoint(to lsn: LSN) throws(DaybookError) {
        try transaction {
            try connection.query(
                "UPDATE daybook.checkpoint SET lsn = $2::pg_lsn, updated_at = now() WHERE slot_name = $1 AND lsn < $2::pg_lsn",
                [slot, lsn.description]
            )
            expectedLSN = max(expectedLSN ?? 0, lsn)
        }
    }

    /// Takes `lsn` (the slot's position) as the checkpoint's when it is further, and marks the
    /// row as bounded (``SinkGap/Verdict/adopt(_:)``).
    func adoptSlotPosition(_ lsn: LSN) throws(DaybookError) {
        try transaction {
            try connection.query(
                """
                UPDATE daybook.checkpoint SET lsn = greatest(lsn, $2::pg_lsn), slot_bounded = true, updated_at = now()
                 WHERE slot_name = $1
                """,
                [slot, lsn.description]
            )
            expectedLSN = max(expectedLSN ?? 0, lsn)
        }
    }

    /// Writes part of a large open transaction's per-key rows and late changes, in their own
    /// transaction, marked pending until a checkpoint passes that transaction's commit.
    public func write(_ spill: Spill) throws(DaybookError) {
        let keys = encodeKeyChanges(spill.keys, tableNames: spill.tableNames, tag: spill.keyTag)
        defer { returnCopyEncoder(keys.copy) }
        try ensurePartitions(keys.windows.union(spill.events.windowStarts))
        try transaction {
            try appendKeyChanges(keys)
            try appendValueEvents(spill.events, tableNames: spill.tableNames, attributions: spill.attributions)
            try erasePending()
            if !spill.late.isEmpty {
                try connection.query(SinkSQL.insertLate, [slot, CheckpointPayload.late(spill.late)])
            }
            try connection.query(
                "UPDATE daybook.checkpoint SET pending_lsn = $2::pg_lsn WHERE slot_name = $1",
                [slot, spill.keyTag.lsn.description]
            )
        }
    }

    /// Runs `body` in one sink transaction, fenced unless told otherwise (finishing a closed
    /// window writes no checkpoint), mapping failures to retryable or fatal ``DaybookError``s.
    func transaction(fenced: Bool = true, _ body: () throws -> Void) throws(DaybookError) {
        do {
            try connection.withTransaction {
                if fenced { try fence() }
                try body()
            }
        } catch {
            throw Self.writeError(error)
        }
    }

    /// A write's failure as a ``DaybookError``: a lost connection is worth a retry.
    static func writeError(_ error: any Error) -> DaybookError {
        switch error {
        case let error as DaybookError:
            return error
        case let error as PostgresError:
            let converted = DaybookError.from(error, role: .sink)
            if !converted.isRetryable, error.code == .connection {
                return DaybookError(.connection, converted.message, retryable: true)
            }
            return converted
        default:
            return DaybookError(.query, "\(error)")
        }
    }

    /// Locks this slot's checkpoint row and checks nobody else moved it since we read it.
    private func fence() throws {
        let found = try CheckpointRow.read(slot: slot, on: connection, locking: true)?.lsn
        guard found == expectedLSN else { throw Self.checkpointMoved(slot: slot) }
    }

    /// The sink's checkpoint is not the one this process last wrote: another writer.
    static func checkpointMoved(slot: String) -> DaybookError {
        DaybookError(
            .sinkConflict,
            "the sink's checkpoint for slot \(slot) moved underneath this process (another daybook writing the same "
                + "slot?); stopping without writing"
        )
    }

    private func writeBody(_ checkpoint: Checkpoint, keys: EncodedKeyChanges, eventsAhead: EventsAheadWriter?) throws {
        if !checkpoint.opened.isEmpty {
            try connection.query(
                """
                INSERT INTO daybook.windows (slot_name, window_start, window_end, closes_at)
                SELECT $1, daybook.from_micros(x.ws), daybook.from_micros(x.we), daybook.from_micros(x.c)
                  FROM jsonb_to_recordset($2::jsonb) AS x(ws bigint, we bigint, c bigint)
                ON CONFLICT (slot_name, window_start) DO NOTHING
                """,
                [slot, CheckpointPayload.opened(checkpoint.opened, grace: settings.grace)]
            )
        }
        let batch = checkpoint.batch
        let tables = batch.tableCounts
        if !tables.isEmpty {
            try connection.query(SinkSQL.upsertTables, [slot, CheckpointPayload.tables(tables)])
        }
        try appendKeyChanges(keys)
        if let eventsAhead {
            try eventsAhead.waitUntilCommitted()
            try fence()
        } else {
            try appendValueEvents(
                batch.events,
                tableNames: batch.tableNames,
                attributions: checkpoint.attribution.attributions
            )
        }
        try erasePending()
        if !checkpoint.attribution.isEmpty {
            let attribution = CheckpointPayload.attribution(checkpoint.attribution, tableNames: batch.tableNames)
            try connection.query(SinkSQL.addAttribution, [slot, attribution])
            try connection.query(SinkSQL.foldAttribution, [slot, attribution, String(Self.attributionRowsKept)])
        }
        if !checkpoint.tableShapes.isEmpty {
            try connection.query(SinkSQL.insertTableShapes, [slot, TableShape.payload(checkpoint.tableShapes)])
        }
        if !checkpoint.captureRules.isEmpty {
            try connection.query(
                SinkSQL.insertCaptureRules,
                [slot, CheckpointPayload.captureRules(checkpoint.captureRules)]
            )
        }
        if !batch.late.isEmpty {
            try connection.query(SinkSQL.insertLate, [slot, CheckpointPayload.late(batch.late)])
        }
        if !checkpoint.closed.isEmpty {
            // Only marked here: the ``WindowFinisher`` makes their results final off the stream's path.
            try connection.query(
                SinkSQL.markClosing,
                [slot, CheckpointPayload.closed(checkpoint.closed), checkpoint.lsn.description]
            )
            if !checkpoint.sourceRows.isEmpty, !checkpoint.sourceRowsWindows.isEmpty {
                try connection.query(
                    SinkSQL.recordSourceRows,
                    [
                        slot,
                        DaybookJSON.text(checkpoint.sourceRowsWindows.map { ["ws": $0.start.microsecondsSinceEpoch] }),
                        DaybookJSON.text(checkpoint.sourceRows),
                    ]
                )
            }
        }
        try connection.query(
            SinkSQL.saveCheckpoint,
            [
                slot, checkpoint.lsn.description, checkpoint.streamTime.map { String($0.microsecondsSinceEpoch) },
                settings.length.description, "\(settings.grace.wholeMicroseconds) microseconds", settings.timeZoneName,
                checkpoint.lastHeartbeat.map { String($0.microsecondsSinceEpoch) }, sourceTimeline.map(String.init),
            ]
        )
    }
}
