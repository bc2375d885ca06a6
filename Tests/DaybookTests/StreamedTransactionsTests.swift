@testable import Daybook
import PgOutput
import PgOutputTestSupport
import Testing

/// The chunks of streamed transactions, held until their commit or abort: interleaving,
/// rollbacks of whole transactions and of subtransactions, and what goes to the sink.
struct StreamedTransactionsTests {
    private static func insert(_ id: Int) -> PgOutputMessage {
        .insert(Insert(relationOID: 9, new: TupleData(columns: [.text(Array(String(id).utf8)[...])])))
    }
    private static let relation = PgOutputMessage.relation(
        Relation(oid: 9, namespace: "app", name: "t", replicaIdentity: .default, columns: []))

    /// Appends `message` as the server sends it inside a chunk, from subtransaction `subxid`.
    private func append(_ streams: inout StreamedTransactions, _ message: PgOutputMessage, subxid: UInt32) throws {
        let bytes = PgOutputTestEncoder.encodeStreamed(xid: subxid, message)
        try bytes.withUnsafeBytes { try streams.append($0, subxid: subxid) }
    }

    /// The ids of the inserts a committed transaction hands over from memory, in order.
    private func ids(_ committed: StreamedTransactions.Committed) throws -> [String] {
        try committed.entries.compactMap { entry in
            guard case .insert(let insert) = try PgOutputDecoder.decode(Array(committed.bytes[entry.range])) else { return nil }
            return insert.new.columns.first?.text
        }
    }

    @Test func interleavedTransactionsAreHandedOverSeparatelyInProtocolOneForm() throws {
        var streams = StreamedTransactions()
        _ = try streams.start(StreamStart(xid: 10, isFirstSegment: true))
        try append(&streams, Self.relation, subxid: 10)
        try append(&streams, Self.insert(1), subxid: 10)
        try streams.stop()
        _ = try streams.start(StreamStart(xid: 20, isFirstSegment: true))
        try append(&streams, Self.insert(100), subxid: 20)
        try streams.stop()
        _ = try streams.start(StreamStart(xid: 10, isFirstSegment: false))
        try append(&streams, Self.insert(2), subxid: 10)
        try streams.stop()
        #expect(streams.openTransactions == 2)

        let first = try streams.commit(10)
        #expect(!first.staged)
        #expect(try ids(first) == ["1", "2"])
        // The xid is gone: each message decodes as it would outside a stream.
        #expect(try PgOutputDecoder.decode(Array(first.bytes[first.entries[0].range])) == Self.relation)
        #expect(first.entries.map(\.seq) == [0, 1, 2])
        let second = try streams.commit(20)
        #expect(try ids(second) == ["100"])
        #expect(streams.openTransactions == 0)
        #expect(streams.bufferedBytes == 0)
    }

    @Test func aWholeRollbackLeavesNothing() throws {
        var streams = StreamedTransactions()
        _ = try streams.start(StreamStart(xid: 10, isFirstSegment: true))
        try append(&streams, Self.insert(1), subxid: 10)
        try streams.stop()
        #expect(streams.abort(StreamAbort(xid: 10, subxid: 10)) == nil)  // nothing was in the sink
        #expect(streams.openTransactions == 0)
        #expect(throws: ChangeProcessor.ProtocolError.self) { try streams.commit(10) }
    }

    /// BEGIN; insert 1; SAVEPOINT a; insert 2; SAVEPOINT b; insert 3; RELEASE b; insert 4;
    /// ROLLBACK TO a; insert 5; COMMIT: rows 1 and 5 remain. The server sends an abort for `a`
    /// (and perhaps for `b`); everything from `a`'s first message on goes, the table's
    /// description stays.
    @Test func aRolledBackSubtransactionTakesEverythingFromItsFirstMessage() throws {
        var streams = StreamedTransactions()
        _ = try streams.start(StreamStart(xid: 10, isFirstSegment: true))
        try append(&streams, Self.insert(1), subxid: 10)
        try append(&streams, Self.insert(2), subxid: 11)
        try append(&streams, Self.relation, subxid: 12)
        try append(&streams, Self.insert(3), subxid: 12)
        try append(&streams, Self.insert(4), subxid: 11)
        try streams.stop()
        #expect(streams.abort(StreamAbort(xid: 10, subxid: 12)) == nil)
        #expect(streams.abort(StreamAbort(xid: 10, subxid: 11)) == nil)
        _ = try streams.start(StreamStart(xid: 10, isFirstSegment: false))
        try append(&streams, Self.insert(5), subxid: 10)
        try streams.stop()
        let committed = try streams.commit(10)
        #expect(try ids(committed) == ["1", "5"])
        #expect(committed.entries.map(\.kind) == Array("IRI".utf8))
    }

    @Test func anAbortOfASubtransactionThatWroteNothingChangesNothing() throws {
        var streams = StreamedTransactions()
        _ = try streams.start(StreamStart(xid: 10, isFirstSegment: true))
        try append(&streams, Self.insert(1), subxid: 10)
        try streams.stop()
        #expect(streams.abort(StreamAbort(xid: 10, subxid: 77)) == nil)
        #expect(try ids(streams.commit(10)) == ["1"])
    }

    @Test func stagedMessagesAreDiscardedInTheSinkToo() throws {
        var streams = StreamedTransactions()
        _ = try streams.start(StreamStart(xid: 10, isFirstSegment: true))
        try append(&streams, Self.insert(1), subxid: 10)
        try append(&streams, Self.insert(2), subxid: 11)
        let taken = streams.takeStage()
        let stage = try #require(taken)
        #expect(stage.entries.map(\.seq) == [0, 1])
        #expect(streams.bufferedBytes == 0)
        try append(&streams, Self.insert(3), subxid: 11)
        try streams.stop()
        #expect(streams.abort(StreamAbort(xid: 10, subxid: 11)) == .init(xid: 10, fromSeq: 1, wholeTransaction: false))
        let committed = try streams.commit(10)
        #expect(committed.staged)
        #expect(committed.entries.isEmpty)
    }

    @Test func aFirstChunkAgainStartsTheTransactionOver() throws {
        var streams = StreamedTransactions()
        _ = try streams.start(StreamStart(xid: 10, isFirstSegment: true))
        try append(&streams, Self.insert(1), subxid: 10)
        _ = streams.takeStage()
        try streams.stop()
        let discard = try streams.start(StreamStart(xid: 10, isFirstSegment: true))
        #expect(discard == .init(xid: 10, fromSeq: 0, wholeTransaction: true))
        try append(&streams, Self.insert(1), subxid: 10)
        try streams.stop()
        let committed = try streams.commit(10)
        #expect(!committed.staged)
        #expect(try ids(committed) == ["1"])
    }

    @Test func outOfOrderStreamMessagesAreProtocolErrors() throws {
        var streams = StreamedTransactions()
        #expect(throws: ChangeProcessor.ProtocolError.self) { try streams.stop() }
        #expect(throws: ChangeProcessor.ProtocolError.self) {
            try streams.start(StreamStart(xid: 10, isFirstSegment: false))
        }
        _ = try streams.start(StreamStart(xid: 10, isFirstSegment: true))
        #expect(throws: ChangeProcessor.ProtocolError.self) {
            try streams.start(StreamStart(xid: 11, isFirstSegment: true))
        }
        #expect(throws: ChangeProcessor.ProtocolError.self) { try streams.commit(10) }
        #expect(throws: ChangeProcessor.ProtocolError.self) {
            try [UInt8(ascii: "I"), 0].withUnsafeBytes { try streams.append($0, subxid: 10) }
        }
    }
}
