import DaybookCore
import PostgresReplication
import Windowing

/// How per-key rows become a closed window's final rows without moving them: partitions per
/// window, rows flagged when their key may repeat, and a close that merges only those.
extension Sink {
    /// Records a key written to a window; returns whether it possibly was written before.
    func rememberKey(window: Int64, table: [UInt8], key: UnsafeRawBufferPointer) -> Bool {
        var hasher = Hasher()
        table.withUnsafeBytes { hasher.combine(bytes: $0) }
        hasher.combine(0 as UInt8)  // no table name contains NUL: table and key stay apart
        hasher.combine(bytes: key)
        let hash = UInt64(bitPattern: Int64(hasher.finalize()))
        return seenKeys[window, default: SeenKeys(maximumSlots: seenKeysMaximumSlots)].insert(hash: hash)
    }

    func forgetKeys(of closure: WindowClosure) {
        seenKeys[closure.window.start.microsecondsSinceEpoch] = nil
        knownPartitions.remove(closure.window.start.microsecondsSinceEpoch)
    }

    /// Reads back the keys already written to the open windows (after a restart), so that a
    /// key written before it is flagged when written again. A cursor keeps memory to one chunk
    /// however many keys the day has.
    func rememberWrittenKeys(of windows: [Window]) throws {
        seenKeys = [:]
        for window in windows {
            let start = window.start.microsecondsSinceEpoch
            seenKeys[start] = SeenKeys(maximumSlots: seenKeysMaximumSlots)
            try connection.withTransaction {
                try connection.query(
                    """
                    DECLARE daybook_written_keys NO SCROLL CURSOR FOR
                    SELECT table_name, key FROM daybook.key_changes
                     WHERE slot_name = $1 AND window_start = daybook.from_micros($2::bigint)
                    """,
                    [slot, String(start)]
                )
                var tableBytes: [String: [UInt8]] = [:]
                while true {
                    let chunk = try connection.simpleQuery("FETCH 20000 FROM daybook_written_keys")
                    if chunk.rows.isEmpty { break }
                    for row in chunk.rows {
                        guard let table = row[0], var key = row[1] else { continue }
                        let bytes = tableBytes[table] ?? Array(table.utf8)
                        tableBytes[table] = bytes
                        _ = key.withUTF8 { rememberKey(window: start, table: bytes, key: UnsafeRawBufferPointer($0)) }
                    }
                }
                try connection.simpleQuery("CLOSE daybook_written_keys")
            }
        }
    }

    /// Creates the `key_changes` and `value_events` partitions of `windows` that this process
    /// has not seen yet, each in a transaction of its own, before the checkpoint's transaction
    /// needs them.
    func ensurePartitions(_ windows: Set<Int64>) throws(DaybookError) {
        for window in windows.subtracting(knownPartitions).sorted() {
            do {
                try connection.query(
                    "SELECT daybook.ensure_window_partitions(daybook.from_micros($1::bigint))",
                    [String(window)]
                )
            } catch {
                throw DaybookError.from(error, role: .sink)
            }
            knownPartitions.insert(window)
        }
    }

    /// Makes the oldest window the stream has closed (status `closing`) final, in a
    /// transaction of its own: merges the rows of keys flagged as possibly repeated into one
    /// row per key, counts each table's keys, folds the events of `values` tables (and keeps
    /// each key's last image for the next day's first event), marks it
    /// `closed` and announces it (NOTIFY), and prunes if asked to. Reads only that window's
    /// partition and rewrites only the flagged keys' rows. Returns nil when no window waits.
    ///
    /// It writes no checkpoint and moves nothing the stream depends on, so it runs on a
    /// connection of its own (``WindowFinisher``) while checkpoints go on; doing it again
    /// after a crash gives the same result.
    public func finishNextClosingWindow() throws(DaybookError) -> FinishedWindow? {
        var finished: FinishedWindow?
        let started = ContinuousClock.now
        try transaction(fenced: false) {
            guard let row = try connection.query(SinkSQL.nextClosing, [slot]).rows.first,
                let start = row[0].flatMap({ Int64($0) }), let end = row[1].flatMap({ Int64($0) })
            else { return }
            // One at a time with `daybook forget` of this slot: a close that read a key's values
            // before an erasure committed would write them back into the closed day.
            try connection.query(SinkSQL.forgetLock, [slot])
            // Events of a key forgotten while their checkpoint was being written: erased before
            // the fold reads them.
            try erasePending()
            // Hash the merge's keys in memory; the default 4 MB would spill a large day to disk.
            try connection.query("SET LOCAL work_mem = '64MB'")
            // The open window's partition was never analyzed (it is filled by COPY, and
            // autovacuum comes when it likes): the planner takes it for one row and joins the
            // flagged keys back to it in a nested loop, quadratic in the keys — minutes for a
            // large transaction's 80,000 repeated keys. A hash join is always right here.
            try connection.query("SET LOCAL enable_nestloop = off")
            try connection.query(SinkSQL.mergeRepeatedKeys, [slot, String(start)])
            try connection.query("SET LOCAL enable_nestloop = on")
            let keys = try connection.query(SinkSQL.countKeysOfClosing, [slot, String(start)]).rows.reduce(0) {
                $0 + (Int($1[0] ?? "0") ?? 0)
            }
            let truncated = try ClosingValueFold(connection: connection, slot: slot, maxEventsPerKey: maxEventsPerKey)
                .fold(windowStart: start)
            // Masked values are tags until here; the key images keep theirs (the next day's
            // first comparison), the closed day shows only the marker.
            let masks = try connection.query(SinkSQL.slotMasks, [slot]).scalar == "t"
            if masks { try connection.query(SinkSQL.collectMaskedImages, [slot, String(start)]) }
            try connection.query(SinkSQL.rememberKeyImages, [slot, String(start)])
            if masks {
                try connection.query(SinkSQL.showMaskedImages, [slot, String(start)])
                try connection.query(SinkSQL.showMaskedChanges, [slot, String(start)])
                try connection.query("DROP TABLE daybook_masked")
            }
            try connection.query(SinkSQL.finishWindow, [slot, String(start)])
            if let pruneKeep { _ = try Retention.prune(keep: pruneKeep, all: false, slot: slot, connection) }
            finished = FinishedWindow(
                window: Window(
                    start: Timestamp(microsecondsSinceEpoch: start),
                    end: Timestamp(microsecondsSinceEpoch: end)
                ),
                closedBy: row[2] ?? "",
                keys: keys,
                truncatedEvents: truncated,
                duration: ContinuousClock.now - started
            )
        }
        return finished
    }
}

extension Sink {
    /// Indexes a finished window's per-key rows in the order pages read them (see migration
    /// 007). Outside the finishing transaction: the window is final without it, only slower
    /// to page through.
    public func indexClosedWindow(_ window: Window) throws(DaybookError) {
        do {
            try connection.query(
                "SELECT daybook.index_closed_window(daybook.from_micros($1::bigint))",
                [String(window.start.microsecondsSinceEpoch)]
            )
        } catch {
            throw DaybookError.from(error, role: .sink)
        }
    }
}

/// A window made final by ``Sink/finishNextClosingWindow()``.
public struct FinishedWindow: Sendable {
    public let window: Window
    /// What closed it: `data`, `heartbeat`, `startup` or `idle`.
    public let closedBy: String
    /// Distinct keys over its tables.
    public let keys: Int
    /// Events of values tables left out (over `--max-events-per-key`), per table.
    public let truncatedEvents: [String: Int]
    /// The finishing transaction's time in the sink.
    public let duration: Duration
}
