import PgOutput

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
/// A rolled-back subtransaction takes every message of its transaction from its own first
/// one on, as PostgreSQL's apply worker does: while a subtransaction runs only it and the
/// subtransactions inside it write, so everything from its first message up to its abort is
/// its own (a released inner subtransaction included, which gets no abort of its own).
/// Relation and Type messages are kept: they describe tables, and the server does not send
/// them again within the transaction.
public struct StreamedTransactions: Sendable {
    /// One message held in memory: which transaction, its place in it, its type byte, and
    /// where its bytes are in the buffer.
    public struct Entry: Sendable, Hashable {
        public var xid: UInt32
        public var seq: Int64
        public var kind: UInt8
        public var range: Range<Int>
    }

    /// Messages to write to the sink now, so that memory stays bounded however large the
    /// transactions grow; `bytes` holds every entry's message.
    public struct Stage: Sendable {
        public var entries: [Entry]
        public var bytes: [UInt8]
    }

    /// Staged messages the sink must delete: those of transaction `xid` from `fromSeq` on
    /// (keeping Relation and Type messages unless the whole transaction is gone).
    public struct Discard: Sendable, Hashable {
        public var xid: UInt32
        public var fromSeq: Int64
        public var wholeTransaction: Bool
    }

    /// A committed transaction's messages: those in the sink first (when `staged`), in `seq`
    /// order, then `entries`, read from `bytes`.
    public struct Committed: Sendable {
        public var xid: UInt32
        public var staged: Bool
        public var entries: [Entry]
        public var bytes: [UInt8]
    }

    private struct Transaction: Sendable {
        var nextSeq: Int64 = 0
        /// Where each subtransaction's first message is.
        var subtransactionStarts: [UInt32: Int64] = [:]
        var lastWriter: UInt32?
        /// Whether any of its messages went to the sink.
        var staged = false
    }

    /// Messages not yet staged, of every open transaction, in arrival order.
    public private(set) var entries: [Entry] = []
    private var buffer: [UInt8] = []
    private var transactions: [UInt32: Transaction] = [:]
    /// The transaction whose chunk is being received (between Stream Start and Stream Stop).
    public private(set) var chunkXID: UInt32?

    public init() {}

    /// Whether a chunk is being received: its messages carry an xid.
    public var isInChunk: Bool { chunkXID != nil }

    /// Transactions streamed but neither committed nor rolled back.
    public var openTransactions: Int { transactions.count }

    /// Bytes held in memory (rolled-back messages included until the next stage).
    public var bufferedBytes: Int { buffer.count }

    /// A chunk begins. A first chunk of a transaction already held starts it over (the server
    /// streams an unfinished transaction again from its start): what was held is discarded.
    public mutating func start(_ start: StreamStart) throws(ChangeProcessor.ProtocolError) -> Discard? {
        guard chunkXID == nil else {
            throw ChangeProcessor.ProtocolError(description: "Stream Start of \(start.xid) inside a chunk of \(chunkXID!)")
        }
        var discard: Discard?
        if start.isFirstSegment {
            discard = dropWhole(start.xid)
            transactions[start.xid] = Transaction()
        } else if transactions[start.xid] == nil {
            throw ChangeProcessor.ProtocolError(
                description: "a chunk of streamed transaction \(start.xid) arrived without its first chunk")
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
    public mutating func append(_ bytes: UnsafeRawBufferPointer, subxid: UInt32?) throws(ChangeProcessor.ProtocolError) {
        guard let xid = chunkXID, var transaction = transactions[xid] else {
            throw ChangeProcessor.ProtocolError(description: "a streamed message outside a chunk")
        }
        guard let kind = bytes.first, subxid == nil || bytes.count >= 5 else {
            throw ChangeProcessor.ProtocolError(description: "a streamed message too short for its xid")
        }
        let seq = transaction.nextSeq
        transaction.nextSeq += 1
        if let subxid, subxid != xid, subxid != transaction.lastWriter, transaction.subtransactionStarts[subxid] == nil {
            transaction.subtransactionStarts[subxid] = seq
        }
        if let subxid { transaction.lastWriter = subxid }
        transactions[xid] = transaction
        let start = buffer.count
        buffer.append(kind)
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[(subxid == nil ? 1 : 5)...]))
        entries.append(Entry(xid: xid, seq: seq, kind: kind, range: start..<buffer.count))
    }

    /// A transaction or subtransaction rolled back: forgets its messages.
    ///
    /// - Returns: what the sink must delete, when some of them may be there.
    public mutating func abort(_ abort: StreamAbort) -> Discard? {
        if abort.isWholeTransaction { return dropWhole(abort.xid) }
        guard var transaction = transactions[abort.xid], let first = transaction.subtransactionStarts[abort.subxid] else {
            return nil  // nothing of it was streamed
        }
        entries.removeAll { $0.xid == abort.xid && $0.seq >= first && !Self.describesTable($0.kind) }
        transaction.subtransactionStarts = transaction.subtransactionStarts.filter { $0.value < first }
        transaction.lastWriter = nil
        transactions[abort.xid] = transaction
        releaseBufferIfEmpty()
        return transaction.staged ? Discard(xid: abort.xid, fromSeq: first, wholeTransaction: false) : nil
    }

    /// Takes every message held, to be written to the sink.
    public mutating func takeStage() -> Stage? {
        guard !entries.isEmpty else { return nil }
        for xid in Set(entries.map(\.xid)) { transactions[xid]?.staged = true }
        let stage = Stage(entries: entries, bytes: buffer)
        entries.removeAll(keepingCapacity: true)
        buffer = []
        return stage
    }

    /// A transaction committed: hands over its messages and forgets it.
    public mutating func commit(_ xid: UInt32) throws(ChangeProcessor.ProtocolError) -> Committed {
        guard chunkXID == nil else {
            throw ChangeProcessor.ProtocolError(description: "Stream Commit of \(xid) inside a chunk")
        }
        guard let transaction = transactions.removeValue(forKey: xid) else {
            throw ChangeProcessor.ProtocolError(description: "Stream Commit of \(xid), which was never streamed")
        }
        var bytes: [UInt8] = []
        var mine: [Entry] = []
        for entry in entries where entry.xid == xid {
            let start = bytes.count
            bytes.append(contentsOf: buffer[entry.range])
            mine.append(Entry(xid: xid, seq: entry.seq, kind: entry.kind, range: start..<bytes.count))
        }
        entries.removeAll { $0.xid == xid }
        releaseBufferIfEmpty()
        return Committed(xid: xid, staged: transaction.staged, entries: mine, bytes: bytes)
    }

    private mutating func dropWhole(_ xid: UInt32) -> Discard? {
        guard let transaction = transactions.removeValue(forKey: xid) else { return nil }
        entries.removeAll { $0.xid == xid }
        releaseBufferIfEmpty()
        return transaction.staged ? Discard(xid: xid, fromSeq: 0, wholeTransaction: true) : nil
    }

    private mutating func releaseBufferIfEmpty() {
        if entries.isEmpty { buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20) }
    }

    /// Relation (`R`) and Type (`Y`) messages: kept when a subtransaction rolls back.
    static func describesTable(_ kind: UInt8) -> Bool {
        kind == UInt8(ascii: "R") || kind == UInt8(ascii: "Y")
    }
}
