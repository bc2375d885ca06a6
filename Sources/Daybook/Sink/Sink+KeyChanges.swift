import DaybookCore
import PostgresReplication
import Windowing

/// Per-key rows of a batch, encoded for one binary COPY, and the windows they belong to.
struct EncodedKeyChanges {
    var copy: BinaryCopyEncoder
    var rowCount: Int
    /// Window starts (microseconds) the rows fall in: each needs its partition before the COPY.
    var windows: Set<Int64>
}

extension Sink {
    /// Encodes a batch's per-key rows for `daybook.key_changes` and flags each row whose key
    /// may already have a row in its window (``SeenKeys``), so that the close merges only those.
    ///
    /// Encoding happens before the checkpoint's transaction, so that the partitions the rows
    /// need can be created in a transaction of their own first (``ensurePartitions(_:)``). A
    /// key remembered here whose transaction then fails is only a needless flag later.
    func encodeKeyChanges(_ keys: KeyDeltaTable, tableNames: [String], tag: KeyTag) -> EncodedKeyChanges {
        var encoder = takeCopyEncoder()
        var windows = Set<Int64>()
        guard !keys.isEmpty else { return EncodedKeyChanges(copy: encoder, rowCount: 0, windows: windows) }
        let tableBytes = tableNames.map { Array($0.utf8) }
        var letters: [UInt8] = []
        for index in 0..<keys.count {
            let window = keys.window(at: index).microsecondsSinceEpoch
            windows.insert(window)
            let table = tableBytes[Int(keys.table(at: index))]
            encoder.beginRow(fieldCount: 10)
            encoder.appendText(slotBytes)
            encoder.appendTimestamp(microsecondsSinceEpoch: window)
            encoder.appendText(table)
            let repeated = keys.withKey(at: index) { key in
                encoder.appendText(key)
                return rememberKey(window: window, table: table, key: key)
            }
            let operationCount = keys.operationCount(at: index)
            if operationCount > CompactOperations.rawLimit {
                letters.removeAll(keepingCapacity: true)
                keys.appendOperationLetters(at: index, to: &letters)
                encoder.appendText(CompactOperations.encode(letters))
            } else {
                encoder.appendText(count: operationCount) { keys.appendOperationLetters(at: index, to: &$0) }
            }
            encoder.appendTimestamp(microsecondsSinceEpoch: keys.firstChange(at: index).microsecondsSinceEpoch)
            encoder.appendTimestamp(microsecondsSinceEpoch: keys.lastChange(at: index).microsecondsSinceEpoch)
            encoder.appendLSN(tag.lsn)
            encoder.appendInt32Field(tag.part)
            encoder.appendBool(repeated)
        }
        encoder.finish()
        return EncodedKeyChanges(copy: encoder, rowCount: keys.count, windows: windows)
    }

    /// Appends encoded per-key rows with one binary COPY.
    ///
    /// This is the bulk of what a checkpoint writes. Binary COPY into a partition without
    /// indexes is the least work PostgreSQL can do per row: no statement per row, no text
    /// parsing, no index or row to update however hot the key.
    func appendKeyChanges(_ encoded: EncodedKeyChanges) throws(PostgresError) {
        guard encoded.rowCount > 0 else { return }
        try connection.copyIn(SinkSQL.copyKeyChanges, data: encoded.copy.bytes)
    }
}
