import PgOutput
import PgOutputTestSupport
import Testing

@testable import Daybook
@testable import DaybookCore

/// The chunks of streamed transactions, held until their commit or abort: interleaving,
/// rollbacks of whole transactions and of subtransactions, and what goes to the sink.
struct StreamedTransactionAssemblyTests {
    private static func insert(_ id: Int) -> PgOutputMessage {
        .insert(Insert(relationOID: 9, new: TupleData(columns: [.text(Array(String(id).utf8)[...])])))
    }
    private static let relation = PgOutputMessage.relation(
        Relation(oid: 9, namespace: "app", name: "t", replicaIdentity: .default, columns: [])
    )

    /// Appends `message` as the server sends it inside a chunk, from subtransaction `subxid`.
    private func append(_ streams: inout StreamedTransactions, _ message: PgOutputMessage, subxid: UInt32) throws {
        let bytes = PgOutputTestEncoder.encodeStreamed(xid: subxid, message)
        try bytes.withUnsafeBytes { try streams.append($0, subxid: subxid) }
    }

    /// The messages a run of chunks replays, in protocol 1 form.
    private func messages(
        _ chunks: [StreamedTransactions.Chunk],
        skipping: [Range<Int64>] = []
    ) throws -> [PgOutputMessage] {
        var result: [PgOutputMessage] = []
        for chunk in chunks {
            try chunk.bytes.withUnsafeBytes { bytes in
                try StreamedTransactions.forEachMessage(in: bytes, firstSeq: chunk.firstSeq, skipping: skipping) {
                    result.append(try PgOutputDecoder.decode(Array($0)))
                }
            }
        }
        return result
    }

    private func ids(_ messages: [PgOutputMessage]) -> [String] {
        messages.compactMap { message in
            guard case .insert(let insert) = message else { return nil }
            return insert.new.columns.first?.text
        }
    }

    private func replayed(
        _ committed: StreamedTransactions.Committed,
        staged: [StreamedTransactions.Chunk] = []
    ) throws
        -> [PgOutputMessage]
    {
        try messages(
            staged.filter { $0.xid == committed.xid }.sorted { $0.firstSeq < $1.firstSeq } + [committed.held],
            skipping: committed.rolledBack
        )
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
        let replayed = try replayed(first)
        // The xid is gone: each message decodes as it would outside a stream.
        #expect(replayed.first == Self.relation)
        #expect(ids(replayed) == ["1", "2"])
        #expect(ids(try self.replayed(streams.commit(20))) == ["100"])
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
        #expect(streams.bufferedBytes == 0)
        #expect(throws: ChangeProcessor.ProtocolError.self) { try streams.commit(10) }
    }

    /// BEGIN; insert 1; SAVEPOINT a; insert 2; SAVEPOINT b; insert 3; RELEASE b; insert 4;
    /// ROLLBACK TO a; insert 5; COMMIT: rows 1 and 5 remain. The server sends an abort for `a`
    /// (and perhaps for `b`); everything from `a`'s first message on goes, the table's
    /// description stays, wherever the messages were held.
    @Test func aRolledBackSubtransactionTakesEverythingFromItsFirstMessage() throws {
        var streams = StreamedTransactions()
        _ = try streams.start(StreamStart(xid: 10, isFirstSegment: true))
        try append(&streams, Self.insert(1), subxid: 10)
        try append(&streams, Self.insert(2), subxid: 11)
        let staged = streams.takeStage()
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
        #expect(committed.staged)
        let replayed = try replayed(committed, staged: staged)
        #expect(ids(replayed) == ["1", "5"])
        #expect(replayed.count == 3)
        #expect(replayed[1] == Self.relation)
    }

    @Test func anAbortOfASubtransactionThatWroteNothingChangesNothing() throws {
        var streams = StreamedTransactions()
        _ = try streams.start(StreamStart(xid: 10, isFirstSegment: true))
        try append(&streams, Self.insert(1), subxid: 10)
        try streams.stop()
        #expect(streams.abort(StreamAbort(xid: 10, subxid: 77)) == nil)
        #expect(ids(try replayed(streams.commit(10))) == ["1"])
    }

    @Test func stagedChunksAreDeletedInTheSinkWhenTheTransactionRollsBack() throws {
        var streams = StreamedTransactions()
        _ = try streams.start(StreamStart(xid: 10, isFirstSegment: true))
        try append(&streams, Self.insert(1), subxid: 10)
        let chunks = streams.takeStage()
        #expect(chunks.map(\.xid) == [10])
        #expect(streams.bufferedBytes == 0)
        try streams.stop()
        #expect(streams.abort(StreamAbort(xid: 10, subxid: 10)) == 10)
    }

    @Test func aMessageTooLargeToHoldIsNumberedBetweenTheHeldOnes() throws {
        var streams = StreamedTransactions()
        _ = try streams.start(StreamStart(xid: 10, isFirstSegment: true))
        try append(&streams, Self.insert(1), subxid: 10)
        let large = PgOutputTestEncoder.encodeStreamed(xid: 10, Self.insert(2))
        let (xid, seq, before) = try large.withUnsafeBytes { try streams.numberDirect($0, subxid: 10) }
        #expect(xid == 10 && seq == 1)
        let heldBefore = try #require(before)
        try append(&streams, Self.insert(3), subxid: 10)
        try streams.stop()
        let direct = large.withUnsafeBytes { bytes in
            StreamedTransactions.directChunkPrefix(bytes, subxid: 10) + StreamedTransactions.body(of: bytes, subxid: 10)
        }
        let committed = try streams.commit(10)
        let staged = [heldBefore, StreamedTransactions.Chunk(xid: 10, firstSeq: seq, bytes: direct)]
        #expect(ids(try replayed(committed, staged: staged)) == ["1", "2", "3"])
    }

    @Test func aFirstChunkAgainStartsTheTransactionOver() throws {
        var streams = StreamedTransactions()
        _ = try streams.start(StreamStart(xid: 10, isFirstSegment: true))
        try append(&streams, Self.insert(1), subxid: 10)
        _ = streams.takeStage()
        try streams.stop()
        #expect(try streams.start(StreamStart(xid: 10, isFirstSegment: true)) == 10)
        try append(&streams, Self.insert(1), subxid: 10)
        try streams.stop()
        let committed = try streams.commit(10)
        #expect(!committed.staged)
        #expect(ids(try replayed(committed)) == ["1"])
    }

    @Test func outOfOrderStreamMessagesAndCutChunksAreProtocolErrors() throws {
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
        for cut in [[0, 0, 0, 9, UInt8(ascii: "I")], [0, 0, 0], [0, 0, 0, 0, 1]] as [[UInt8]] {
            #expect(throws: ChangeProcessor.ProtocolError.self) {
                try cut.withUnsafeBytes {
                    try StreamedTransactions.forEachMessage(in: $0, firstSeq: 0, skipping: []) { _ in }
                }
            }
        }
    }
}

/// The oldest server Daybook reads: an older one is refused with one line that says what to do.
struct SupportedVersionTests {
    @Test func fifteenAndLaterAreSupported() throws {
        for version in [150_000, 150_004, 170_010, 180_006] { try SourceChecks.requireSupportedVersion(version) }
    }

    @Test(arguments: [140_019, 130_000, 90_624])
    func olderServersAreRefusedWithTheFix(version: Int) {
        #expect {
            try SourceChecks.requireSupportedVersion(version)
        } throws: { error in
            guard let error = error as? DaybookError else { return false }
            return error.code == .unsupportedServer && error.exitCode == 4
                && error.message.contains("upgrade the server")
                && error.message.contains("PostgreSQL \(SourceChecks.versionText(version))")
        }
    }

    @Test func versionsReadAsPeopleWriteThem() {
        #expect(SourceChecks.versionText(140_019) == "14.19")
        #expect(SourceChecks.versionText(90_624) == "9.6.24")
    }
}
