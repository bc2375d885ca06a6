import PgOutput
import WAL

/// The chunks of transactions the server streams before they commit (pgoutput protocol 2,
/// `streaming 'on'`), held until each one's Stream Commit or Stream Abort. Pure: the session
/// writes what this says to stage into the sink and reads it back at the commit.
///
/// A streamed transaction's window is its commit time, and until its commit it may still
/// roll back, whole or one subtransaction at a time. So its messages are kept as they came, in
/// protocol 1 form (without the xid the stream puts in front of them), and at its commit they
/// go through the ``ChangeProcessor`` exactly as an ordinary transaction's would: windows,
/// keys, values, late changes, heartbeats, capture rules and parts written ahead of a large
/// commit behave the same whichever way a transaction arrived.
///
/// Messages are numbered in their transaction and held as runs of consecutive ones, each
/// behind its length (see ``Chunk``): in memory until ``bufferedBytes`` says to stage them, then
/// in the sink, one row per run. A rolled-back subtransaction takes every message of its
/// transaction from its own first one up to its abort, as PostgreSQL's apply worker does (while
/// a subtransaction runs only it and the subtransactions inside it write, a released inner one
/// included, which gets no abort of its own); those numbers are remembered and skipped at the
/// commit, wherever the messages are. Relation and Type messages are never skipped: they
/// describe tables, and the server does not send them again within the transaction.
public struct StreamedTransactions: Sendable {
    /// A run of consecutive messages of transaction `xid`, the first one message `firstSeq`;
    /// `bytes` holds each behind its length (UInt32, big-endian).
    public struct Chunk: Sendable {
        public var xid: UInt32
        public var firstSeq: Int64
        public var bytes: [UInt8]
    }

    /// A committed transaction: its chunks in the sink first (when `staged`), in `firstSeq`
    /// order, then `held`; the messages numbered in `rolledBack` are to be skipped.
    public struct Committed: Sendable {
        public var xid: UInt32
        public var staged: Bool
        public var held: Chunk
        public var rolledBack: [Range<Int64>]
    }

    private struct Transaction: Sendable {
        var nextSeq: Int64 = 0
        /// Where each subtransaction's first message is.
        var subtransactionStarts: [UInt32: Int64] = [:]
        var lastWriter: UInt32?
        /// Whether any of its messages went to the sink.
        var staged = false
        var rolledBack: [Range<Int64>] = []
        /// Messages not yet staged, the first of them number `heldFirstSeq`.
        var held: [UInt8] = []
        var heldFirstSeq: Int64 = 0
    }

    private var transactions: [UInt32: Transaction] = [:]
    /// The transaction whose chunk is being received (between Stream Start and Stream Stop).
    public private(set) var chunkXID: UInt32?
    /// Bytes held in memory, over every open transaction.
    public private(set) var bufferedBytes = 0

    public init() {}

    /// Whether a chunk is being received: its messages carry an xid.
    public var isInChunk: Bool { chunkXID != nil }

    /// Transactions streamed but neither committed nor rolled back.
    public var openTransactions: Int { transactions.count }

    /// A chunk begins. A first chunk of a transaction already held starts it over (the server
    /// streams an unfinished transaction again from its start).
    ///
    /// - Returns: a transaction whose chunks the sink must delete.
    public mutating func start(_ start: StreamStart) throws(ChangeProcessor.ProtocolError) -> UInt32? {
        guard chunkXID == nil else {
            throw ChangeProcessor.ProtocolError(
                description: "Stream Start of \(start.xid) inside a chunk of \(chunkXID!)"
            )
        }
        var discard: UInt32?
        if start.isFirstSegment {
            discard = dropWhole(start.xid)
            transactions[start.xid] = Transaction()
        } else if transactions[start.xid] == nil {
            throw ChangeProcessor.ProtocolError(
                description: "a chunk of streamed transaction \(start.xid) arrived without its first chunk"
            )
        }
        chunkXID = start.xid
        return discard
    }

    /// The chunk ends.
    public mutating func stop() throws(ChangeProcessor.ProtocolError) {
        guard chunkXID != nil else { throw ChangeProcessor.ProtocolError(description: "Stream Stop outside a chunk") }
        chunkXID = nil
    }

    /// Holds one message of the current chunk: `bytes` as it arrived, `subxid` the xid it
    /// carried (nil for a type that carries none, kept whole).
    public mutating func append(_ bytes: UnsafeRawBufferPointer, subxid: UInt32?) throws(ChangeProcessor.ProtocolError)
    {
        let xid = try number(bytes, subxid: subxid)
        let body = Self.body(of: bytes, subxid: subxid)
        transactions[xid]!.held.append(contentsOf: Self.lengthPrefix(body.count + 1))
        transactions[xid]!.held.append(bytes[0])
        transactions[xid]!.held.append(contentsOf: body)
        bufferedBytes += body.count + 5
    }

    /// Numbers one message of the current chunk that is too large to hold in memory; the
    /// caller writes it to the sink itself, as a chunk of its own (see ``directChunkPrefix``).
    ///
    /// - Returns: the transaction, the message's number, and the messages of the transaction
    ///   held before it, which must be staged too.
    public mutating func numberDirect(
        _ bytes: UnsafeRawBufferPointer,
        subxid: UInt32?
    ) throws(ChangeProcessor.ProtocolError) -> (xid: UInt32, seq: Int64, heldBefore: Chunk?) {
        let xid = try number(bytes, subxid: subxid)
        var transaction = transactions[xid]!
        let seq = transaction.nextSeq - 1
        var heldBefore: Chunk?
        if !transaction.held.isEmpty {
            heldBefore = Chunk(xid: xid, firstSeq: transaction.heldFirstSeq, bytes: transaction.held)
            bufferedBytes -= transaction.held.count
            transaction.held = []
        }
        transaction.staged = true
        transaction.heldFirstSeq = seq + 1
        transactions[xid] = transaction
        return (xid, seq, heldBefore)
    }

    /// Gives the next message of the current chunk its number, noting where a
    /// subtransaction's messages begin.
    private mutating func number(
        _ bytes: UnsafeRawBufferPointer,
        subxid: UInt32?
    ) throws(ChangeProcessor.ProtocolError) -> UInt32 {
        guard let xid = chunkXID, var transaction = transactions[xid] else {
            throw ChangeProcessor.ProtocolError(description: "a streamed message outside a chunk")
        }
        guard !bytes.isEmpty, subxid == nil || bytes.count >= 5 else {
            throw ChangeProcessor.ProtocolError(description: "a streamed message too short for its xid")
        }
        let seq = transaction.nextSeq
        transaction.nextSeq += 1
        if let subxid, subxid != xid, subxid != transaction.lastWriter, transaction.subtransactionStarts[subxid] == nil
        {
            transaction.subtransactionStarts[subxid] = seq
        }
        if let subxid { transaction.lastWriter = subxid }
        transactions[xid] = transaction
        return xid
    }

    /// A transaction or subtransaction rolled back: forgets its messages.
    ///
    /// - Returns: a transaction whose chunks the sink must delete.
    public mutating func abort(_ abort: StreamAbort) -> UInt32? {
        if abort.isWholeTransaction { return dropWhole(abort.xid) }
        guard var transaction = transactions[abort.xid], let first = transaction.subtransactionStarts[abort.subxid]
        else {
            return nil  // nothing of it was streamed
        }
        transaction.rolledBack.append(first..<transaction.nextSeq)
        transaction.subtransactionStarts = transaction.subtransactionStarts.filter { $0.value < first }
        transaction.lastWriter = nil
        transactions[abort.xid] = transaction
        return nil
    }

    /// Takes every message held, as one chunk per transaction, to be written to the sink.
    public mutating func takeStage() -> [Chunk] {
        var chunks: [Chunk] = []
        for (xid, transaction) in transactions where !transaction.held.isEmpty {
            chunks.append(Chunk(xid: xid, firstSeq: transaction.heldFirstSeq, bytes: transaction.held))
            transactions[xid]!.held = []
            transactions[xid]!.heldFirstSeq = transaction.nextSeq
            transactions[xid]!.staged = true
        }
        bufferedBytes = 0
        return chunks
    }

    /// A transaction committed: hands over its messages and forgets it.
    public mutating func commit(_ xid: UInt32) throws(ChangeProcessor.ProtocolError) -> Committed {
        guard chunkXID == nil else {
            throw ChangeProcessor.ProtocolError(description: "Stream Commit of \(xid) inside a chunk")
        }
        guard let transaction = transactions.removeValue(forKey: xid) else {
            throw ChangeProcessor.ProtocolError(description: "Stream Commit of \(xid), which was never streamed")
        }
        bufferedBytes -= transaction.held.count
        return Committed(
            xid: xid,
            staged: transaction.staged,
            held: Chunk(xid: xid, firstSeq: transaction.heldFirstSeq, bytes: transaction.held),
            rolledBack: transaction.rolledBack
        )
    }

    private mutating func dropWhole(_ xid: UInt32) -> UInt32? {
        guard let transaction = transactions.removeValue(forKey: xid) else { return nil }
        bufferedBytes -= transaction.held.count
        return transaction.staged ? xid : nil
    }

    /// Calls `body` with each message of a chunk (valid only during the call) that is not
    /// rolled back, in order.
    ///
    /// - Throws: a ``ChangeProcessor/ProtocolError`` when the chunk's lengths do not add up,
    ///   and whatever `body` throws.
    public static func forEachMessage(
        in chunk: UnsafeRawBufferPointer,
        firstSeq: Int64,
        skipping rolledBack: [Range<Int64>],
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var offset = 0
        var seq = firstSeq
        while offset < chunk.count {
            guard chunk.count - offset >= 5 else {
                throw ChangeProcessor.ProtocolError(description: "a held chunk of a streamed transaction is cut short")
            }
            let length = Int(chunk.bigEndian(UInt32.self, at: offset))
            offset += 4
            guard length >= 1, chunk.count - offset >= length else {
                throw ChangeProcessor.ProtocolError(description: "a held chunk of a streamed transaction is cut short")
            }
            let message = UnsafeRawBufferPointer(rebasing: chunk[offset..<(offset + length)])
            if describesTable(message[0]) || !rolledBack.contains(where: { $0.contains(seq) }) { try body(message) }
            offset += length
            seq += 1
        }
    }

    /// The bytes a chunk of the single message `bytes` (as received, with `subxid`) holds
    /// before the message's body: its length and type byte.
    public static func directChunkPrefix(_ bytes: UnsafeRawBufferPointer, subxid: UInt32?) -> [UInt8] {
        lengthPrefix(body(of: bytes, subxid: subxid).count + 1) + [bytes[0]]
    }

    /// The message after its type byte and, inside a chunk, its xid.
    public static func body(of bytes: UnsafeRawBufferPointer, subxid: UInt32?) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[min(subxid == nil ? 1 : 5, bytes.count)...])
    }

    private static func lengthPrefix(_ length: Int) -> [UInt8] {
        let value = UInt32(truncatingIfNeeded: length)
        return [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// Relation (`R`) and Type (`Y`) messages: kept when a subtransaction rolls back.
    static func describesTable(_ kind: UInt8) -> Bool {
        kind == UInt8(ascii: "R") || kind == UInt8(ascii: "Y")
    }
}
