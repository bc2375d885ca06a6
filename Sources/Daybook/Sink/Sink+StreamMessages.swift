import DaybookCore
import PostgresReplication
import WAL
import Windowing

extension Sink {
    /// Appends held chunks of streamed transactions to `daybook.stream_chunks` with one
    /// binary COPY (see ``StreamedTransactions``). They count for nothing until their commit
    /// is replayed and checkpointed.
    func write(_ chunks: [StreamedTransactions.Chunk]) throws(DaybookError) {
        var encoder = takeCopyEncoder()
        defer { returnCopyEncoder(encoder) }
        for chunk in chunks {
            encoder.beginRow(fieldCount: 4)
            encoder.appendText(slotBytes)
            encoder.appendInt64(Int64(chunk.xid))
            encoder.appendInt64(chunk.firstSeq)
            encoder.appendText(chunk.bytes)
        }
        encoder.finish()
        try transaction {
            try connection.copyIn(SinkSQL.copyStreamChunks, data: encoder.bytes)
        }
    }

    /// Deletes the held chunks of a streamed transaction that rolled back.
    func discardStreamed(xid: UInt32) throws(DaybookError) {
        try transaction {
            try connection.query(SinkSQL.deleteStreamChunks, [slot, String(xid)])
        }
    }

    /// Deletes every held chunk of the slot: at the start of a session, since the server
    /// streams every unfinished transaction again from its start.
    func discardStreamChunks() throws {
        try connection.query("DELETE FROM daybook.stream_chunks WHERE slot_name = $1", [slot])
    }
}

/// The session's own sink connection for streamed transactions (the sink's is the writer
/// thread's): it writes a message too large to hold, and reads a committed transaction's
/// chunks back, in order. Every chunk is sealed with the session's ``ChunkSeal``.
final class StreamChunkStore {
    private let connection: PostgresConnection
    private let slot: String
    private let seal: ChunkSeal

    init(connection: PostgresConnection, slot: String, seal: ChunkSeal) {
        self.connection = connection
        self.slot = slot
        self.seal = seal
    }

    /// Writes one message as a chunk of its own, sealed a piece at a time as it is sent: the
    /// message is never copied whole.
    func writeDirect(xid: UInt32, seq: Int64, prefix: [UInt8], body: UnsafeRawBufferPointer) throws {
        var head = BinaryCopyEncoder()
        head.beginRow(fieldCount: 4)
        head.appendText(Array(slot.utf8))
        head.appendInt64(Int64(xid))
        head.appendInt64(seq)
        head.appendFieldStart(length: ChunkSeal.sealedCount(prefix.count + body.count), firstBytes: [])
        let seal = seal
        try connection.copyIn(SinkSQL.copyStreamChunks) { send in
            try head.bytes.withUnsafeBytes { try send($0) }
            try seal.seal(prefix: prefix, body: body) { try send($0) }
            try BinaryCopyEncoder.trailer.withUnsafeBytes { try send($0) }
        }
    }

    /// Calls `body` with each chunk of transaction `xid`, in order (valid only during the
    /// call), then deletes them.
    func replay(xid: UInt32, _ body: (_ firstSeq: Int64, _ messages: UnsafeRawBufferPointer) throws -> Void) throws {
        // COPY takes no parameters: the slot name goes in as an escaped literal, the xid as a number.
        let sql = """
            COPY (SELECT first_seq, messages FROM daybook.stream_chunks
                   WHERE slot_name = \(connection.quoteLiteral(slot)) AND xid = \(xid) ORDER BY first_seq)
            TO STDOUT (FORMAT binary)
            """
        var reader = BinaryCopyReader()
        try connection.copyOut(sql) { data in
            try reader.feed(data) { fields in
                guard fields.count == 2, let seq = fields[0], seq.count == 8, let messages = fields[1] else {
                    throw DaybookError(.query, "a held chunk of streamed transaction \(xid) is malformed")
                }
                let opened: [UInt8]
                do { opened = try seal.open(messages) } catch {
                    throw DaybookError(
                        .query,
                        "a held chunk of streamed transaction \(xid) cannot be opened (not this session's, or changed)"
                    )
                }
                try opened.withUnsafeBytes { try body(seq.bigEndian(Int64.self, at: 0), $0) }
            }
        }
        try connection.query(SinkSQL.deleteStreamChunks, [slot, String(xid)])
    }
}
