import Daybook
import DaybookCore
import Foundation
import PgOutput
import Testing
import WAL
import Windowing

/// A transaction larger than a batch is written in parts before its commit, and every write's
/// per-key rows carry the tag that orders them and says when they count.
struct LargeTransactionSpillTests {
    private let accounts = accountsRelation

    private func makeProcessor(committedLSN: LSN = 0) -> ChangeProcessor {
        let engine = WindowingEngine(
            calendar: WindowCalendar(length: try! WindowLength(seconds: 10), timeZone: TimeZone(identifier: "UTC")!),
            grace: .seconds(2)
        )
        var processor = ChangeProcessor(engine: engine, committedLSN: committedLSN)
        processor.register(accounts, primaryKey: ["id"])
        return processor
    }

    private func row(_ id: Int) -> TupleData {
        TupleData(columns: [.text(ArraySlice("\(id)".utf8)), .text(ArraySlice("0".utf8))])
    }
    private func begin(_ lsn: UInt64, at seconds: Int64 = 1_000_001) -> PgOutputMessage {
        .begin(Begin(finalLSN: LSN(lsn), commitTime: pgTime(seconds), xid: UInt32(lsn)))
    }
    private func commit(_ lsn: UInt64, at seconds: Int64 = 1_000_001) -> PgOutputMessage {
        .commit(Commit(flags: 0, commitLSN: LSN(lsn), endLSN: LSN(lsn + 8), commitTime: pgTime(seconds)))
    }
    private func insert(_ id: Int) -> PgOutputMessage { .insert(Insert(relationOID: 10, new: row(id))) }
    private func delete(_ id: Int) -> PgOutputMessage {
        .delete(Delete(relationOID: 10, oldKind: .key, old: row(id)))
    }

    @Test func aLargeTransactionIsHandedOverInPartsTaggedWithItsCommit() throws {
        var processor = makeProcessor()
        // A small committed transaction first: it travels with the first part.
        try processor.process(begin(100))
        try processor.process(insert(1))
        try processor.process(commit(100))

        try processor.process(begin(500))
        for id in 2...4 { try processor.process(delete(id)) }
        #expect(processor.unspilledTransactionChanges == 3)
        let firstTaken = processor.takeSpill()
        let first = try #require(firstTaken)
        #expect(first.keyTag == KeyTag(lsn: 500, part: 0))
        #expect(first.keys.count == 4)
        #expect(first.keys.operationCount == 4)
        #expect(processor.unspilledTransactionChanges == 0)

        for id in 5...6 { try processor.process(delete(id)) }
        let secondTaken = processor.takeSpill()
        let second = try #require(secondTaken)
        #expect(second.keyTag == KeyTag(lsn: 500, part: 1))
        #expect(second.keys.count == 2)

        try processor.process(delete(7))
        try processor.process(commit(500))
        let noSpill1 = processor.takeSpill()
        #expect(noSpill1 == nil, "no spill outside a transaction")

        let checkpointTaken = processor.takeCheckpoint()
        let checkpoint = try #require(checkpointTaken)
        #expect(checkpoint.keyTag == KeyTag(lsn: 500, part: 2), "the final part sorts after the spilled ones")
        #expect(checkpoint.lsn == 508)
        #expect(checkpoint.transactions == 2)
        #expect(checkpoint.batch.keys.count == 1)
        // Per-table counts never leave memory early: the checkpoint has them all.
        let counts = try #require(checkpoint.batch.tables.values.first)
        #expect(counts.inserts == 1)
        #expect(counts.deletes == 6)
        #expect(counts.transactions == 2)
    }

    @Test func nothingIsSpilledBeforeATransactionCountsAnything() throws {
        var processor = makeProcessor(committedLSN: 1_000)
        let noSpill2 = processor.takeSpill()
        #expect(noSpill2 == nil)
        try processor.process(begin(500))  // already in the sink: skipped
        try processor.process(insert(1))
        let noSpill3 = processor.takeSpill()
        #expect(noSpill3 == nil)
        try processor.process(commit(500))
        try processor.process(begin(2_000))
        let noSpill4 = processor.takeSpill()
        #expect(noSpill4 == nil, "nothing counted yet")
    }

    @Test func theTagFollowsTheLatestTransactionWithChanges() throws {
        var processor = makeProcessor()
        try processor.process(begin(100))
        try processor.process(insert(1))
        try processor.process(commit(100))
        // A transaction with nothing counted (a table of the sink's own schema) does not
        // move the tag: its commit is not in the checkpoint, so rows tagged with it would
        // never count.
        let sinkOwn = Relation(
            oid: 40,
            namespace: "daybook",
            name: "key_changes",
            replicaIdentity: .default,
            columns: accounts.columns
        )
        processor.register(sinkOwn, primaryKey: ["id"])
        try processor.process(begin(300))
        try processor.process(.insert(Insert(relationOID: 40, new: row(9))))
        try processor.process(commit(300))
        let checkpointTaken = processor.takeCheckpoint()
        let checkpoint = try #require(checkpointTaken)
        #expect(checkpoint.lsn == 108)
        #expect(checkpoint.keyTag == KeyTag(lsn: 100, part: 0))
        #expect(checkpoint.keyTag.lsn < checkpoint.lsn, "a checkpoint's own rows count at once")
    }

    @Test func theCheckpointLSNNeverGoesBackWhileAnotherIsInFlight() throws {
        var processor = makeProcessor()
        try processor.process(begin(100))
        try processor.process(insert(1))
        try processor.process(commit(100))
        let firstTaken = processor.takeCheckpoint()
        let first = try #require(firstTaken)
        #expect(first.lsn == 108)
        #expect(!processor.isFullyCommitted, "taken but not yet committed")
        // Windows that close while the first checkpoint is still being written.
        try processor.process(begin(200, at: 1_000_013))
        try processor.process(
            .message(LogicalMessage(transactional: true, lsn: LSN(150), prefix: HeartbeatMessage.prefix, content: []))
        )
        try processor.process(commit(200, at: 1_000_013))
        let secondTaken = processor.takeCheckpoint()
        let second = try #require(secondTaken)
        #expect(second.lsn == 208)
        #expect(second.closed.count == 1)
        processor.checkpointCommitted(lsn: first.lsn)
        #expect(!processor.isFullyCommitted)
        processor.checkpointCommitted(lsn: second.lsn)
        #expect(processor.isFullyCommitted)
    }
}
