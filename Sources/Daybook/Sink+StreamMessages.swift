import PostgresReplication
import Windowing

extension Sink {
    /// Appends held messages of streamed transactions to `daybook.stream_messages` with one
    /// binary COPY (see ``StreamedTransactions``). They count for nothing until their commit
    /// is replayed and checkpointed.
    func write(_ stage: StreamedTransactions.Stage) throws(DaybookError) {
        var encoder = takeCopyEncoder()
        defer { returnCopyEncoder(encoder) }
        stage.bytes.withUnsafeBytes { bytes in
            for entry in stage.entries {
                encoder.beginRow(fieldCount: 5)
                encoder.appendText(slotBytes)
                encoder.appendInt64(Int64(entry.xid))
                encoder.appendInt64(entry.seq)
                encoder.appendText([entry.kind])
                encoder.appendText(UnsafeRawBufferPointer(rebasing: bytes[entry.range]))
            }
        }
        encoder.finish()
        try transaction {
            try connection.copyIn(SinkSQL.copyStreamMessages, data: encoder.bytes)
        }
    }

    /// Deletes the held messages of a streamed transaction, or of a subtransaction of it,
    /// that rolled back.
    func discard(_ discard: StreamedTransactions.Discard) throws(DaybookError) {
        try transaction {
            try connection.query(
                """
                DELETE FROM daybook.stream_messages
                 WHERE slot_name = $1 AND xid = $2 AND seq >= $3 AND ($4 OR kind NOT IN ('R', 'Y'))
                """, [slot, String(discard.xid), String(discard.fromSeq), discard.wholeTransaction ? "true" : "false"])
        }
    }

    /// Deletes every held message of the slot: at the start of a session, since the server
    /// streams every unfinished transaction again from its start.
    func discardStreamMessages() throws {
        try connection.query("DELETE FROM daybook.stream_messages WHERE slot_name = $1", [slot])
    }
}

/// Reads a committed streamed transaction's messages back from the sink, in order, on a
/// connection of its own (the sink's is the writer thread's), and deletes them after.
final class StreamMessageReader {
    private let connection: PostgresConnection
    private let slot: String

    init(connection: PostgresConnection, slot: String) {
        self.connection = connection
        self.slot = slot
    }

    /// Calls `body` with each held message of transaction `xid`, in order (valid only during
    /// the call), then deletes them.
    ///
    /// - Returns: how many messages there were.
    func replay(xid: UInt32, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        // COPY takes no parameters: the slot name goes in as an escaped literal, the xid as a number.
        let sql = """
            COPY (SELECT message FROM daybook.stream_messages
                   WHERE slot_name = \(connection.quoteLiteral(slot)) AND xid = \(xid) ORDER BY seq)
            TO STDOUT (FORMAT binary)
            """
        var reader = BinaryCopyReader()
        var count = 0
        try connection.copyOut(sql) { chunk in
            try reader.feed(chunk) { fields in
                guard let message = fields.first ?? nil else {
                    throw DaybookError(.query, "a held message of streamed transaction \(xid) is NULL")
                }
                count += 1
                try body(message)
            }
        }
        try connection.query("DELETE FROM daybook.stream_messages WHERE slot_name = $1 AND xid = $2", [slot, String(xid)])
        return count
    }
}
