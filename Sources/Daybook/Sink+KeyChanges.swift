import PostgresReplication
import Windowing

extension Sink {
    /// Appends per-key rows to `daybook.key_changes` with one binary COPY.
    ///
    /// This is the bulk of what a checkpoint writes. Binary COPY into a table without
    /// indexes is the least work PostgreSQL can do per row: no statement per row, no text
    /// parsing, no index or row to update however hot the key.
    func appendKeyChanges(_ keys: KeyDeltaTable, tableNames: [String], tag: KeyTag) throws(PostgresError) {
        guard !keys.isEmpty else { return }
        var encoder = takeCopyEncoder()
        defer { returnCopyEncoder(encoder) }
        let tableBytes = tableNames.map { Array($0.utf8) }
        for index in 0..<keys.count {
            encoder.beginRow(fieldCount: 9)
            encoder.appendText(slotBytes)
            encoder.appendTimestamp(microsecondsSinceEpoch: keys.window(at: index).microsecondsSinceEpoch)
            encoder.appendText(tableBytes[Int(keys.table(at: index))])
            keys.withKey(at: index) { encoder.appendText($0) }
            encoder.appendText(count: keys.operationCount(at: index)) { keys.appendOperationLetters(at: index, to: &$0) }
            encoder.appendTimestamp(microsecondsSinceEpoch: keys.firstChange(at: index).microsecondsSinceEpoch)
            encoder.appendTimestamp(microsecondsSinceEpoch: keys.lastChange(at: index).microsecondsSinceEpoch)
            encoder.appendLSN(tag.lsn)
            encoder.appendInt32Field(tag.part)
        }
        encoder.finish()
        try connection.copyIn(SinkSQL.copyKeyChanges, data: encoder.bytes)
    }
}
