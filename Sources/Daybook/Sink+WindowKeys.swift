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

    /// Memory held for open windows' written keys, in bytes.
    public var seenKeysByteCount: Int { seenKeys.values.reduce(0) { $0 + $1.byteCount } }

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
                    """, [slot, String(start)])
                while true {
                    let chunk = try connection.simpleQuery("FETCH 20000 FROM daybook_written_keys")
                    if chunk.rows.isEmpty { break }
                    for row in chunk.rows {
                        guard let table = row[0], var key = row[1] else { continue }
                        _ = key.withUTF8 { rememberKey(window: start, table: Array(table.utf8), key: UnsafeRawBufferPointer($0)) }
                    }
                }
                try connection.simpleQuery("CLOSE daybook_written_keys")
            }
        }
    }

    /// Creates the `key_changes` partitions of `windows` that this process has not seen yet,
    /// each in a transaction of its own, before the checkpoint's transaction needs them.
    func ensurePartitions(_ windows: Set<Int64>) throws(DaybookError) {
        for window in windows.subtracting(knownPartitions).sorted() {
            do {
                try connection.query("SELECT daybook.ensure_key_partition(daybook.from_micros($1::bigint))", [String(window)])
            } catch {
                throw DaybookError.from(error, role: "sink")
            }
            knownPartitions.insert(window)
        }
    }

    /// Makes the closing windows' per-key rows final: merges the rows of keys flagged as
    /// possibly repeated into one row per key, then counts each table's keys. Reads only the
    /// closing windows' partitions, and rewrites only the flagged keys' rows. Returns how many
    /// keys the windows have.
    func finishClosingKeys(_ closures: [WindowClosure]) throws -> Int {
        guard !closures.isEmpty else { return 0 }
        var keys = 0
        // Hash the merge's keys in memory; the default 4 MB would spill a large day to disk.
        try connection.query("SET LOCAL work_mem = '64MB'")
        for closure in closures {
            let start = String(closure.window.start.microsecondsSinceEpoch)
            try connection.query(SinkSQL.mergeRepeatedKeys, [slot, start])
            keys += try connection.query(SinkSQL.countKeysOfClosing, [slot, start]).rows.reduce(0) {
                $0 + (Int($1[0] ?? "0") ?? 0)
            }
        }
        return keys
    }
}
