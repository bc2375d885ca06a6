import DaybookCore
import Foundation
import PgOutput
import Testing
import WAL
import Windowing

/// The processor keeps a table's shape for the sink when it differs from the last one kept:
/// the first sight of a table, and each change of shape, dated by its transaction.
struct TableShapeTrackingTests {
    private func makeProcessor(known: [Relation] = []) -> ChangeProcessor {
        let engine = dayWindowsEngine()
        return ChangeProcessor(engine: engine, committedLSN: 0, tableShapes: known)
    }

    private let heartbeat = Relation(
        oid: 20,
        namespace: "daybook",
        name: "heartbeat",
        replicaIdentity: .default,
        columns: [.init(flags: 1, name: "id", typeOID: 23, typeModifier: -1)]
    )

    /// One transaction committing at `lsn` (time `seconds`) that sends `relation` before a change.
    private func transaction(
        _ processor: inout ChangeProcessor,
        lsn: UInt64,
        at seconds: Int64,
        relation: Relation
    ) throws {
        try processor.process(.begin(Begin(finalLSN: LSN(lsn), commitTime: pgTime(seconds), xid: 1)))
        try processor.process(.relation(relation))
        try processor.process(.insert(Insert(relationOID: relation.oid, new: row("1", "5"))))
        try processor.process(
            .commit(Commit(flags: 0, commitLSN: LSN(lsn), endLSN: LSN(lsn + 8), commitTime: pgTime(seconds)))
        )
    }

    @Test func aTableIsKeptAtFirstSightAndAgainOnlyWhenItsShapeChanged() throws {
        var processor = makeProcessor()
        try transaction(&processor, lsn: 100, at: 1_000, relation: accountsRelation)
        let first = processor.takeCheckpoint()
        #expect(
            first?.tableShapes == [
                TableShape(relation: accountsRelation, lsn: 100, commitTime: .init(secondsSinceEpoch: 1_000))
            ]
        )
        // A new connection sends the same Relation message again: nothing new.
        try transaction(&processor, lsn: 200, at: 2_000, relation: accountsRelation)
        #expect(processor.takeCheckpoint()?.tableShapes.isEmpty == true)
        var altered = accountsRelation
        altered.columns.append(.init(flags: 0, name: "note", typeOID: 25, typeModifier: -1))
        try transaction(&processor, lsn: 300, at: 3_000, relation: altered)
        #expect(
            processor.takeCheckpoint()?.tableShapes == [
                TableShape(relation: altered, lsn: 300, commitTime: .init(secondsSinceEpoch: 3_000))
            ]
        )
    }

    @Test func aShapeTheSinkKeptIsNoChangeAfterARestart() throws {
        var processor = makeProcessor(known: [accountsRelation])
        try transaction(&processor, lsn: 100, at: 1_000, relation: accountsRelation)
        #expect(processor.takeCheckpoint()?.tableShapes.isEmpty == true)
    }

    @Test func aShapeInATransactionTheSinkHasIsStillKept() throws {
        // After an upgrade or a crash the server describes each table once more, possibly in
        // a transaction the sink already counted; it will not describe it again.
        let engine = dayWindowsEngine()
        var processor = ChangeProcessor(engine: engine, committedLSN: 500)
        try transaction(&processor, lsn: 100, at: 1_000, relation: accountsRelation)
        #expect(processor.skippedTransactions == 1)
        #expect(processor.takeCheckpoint()?.tableShapes.map(\.lsn) == [100])
    }

    @Test func theHeartbeatTableIsNotTracked() throws {
        var processor = makeProcessor()
        try processor.process(.begin(Begin(finalLSN: 100, commitTime: pgTime(1_000), xid: 1)))
        try processor.process(.relation(heartbeat))
        try processor.process(.insert(Insert(relationOID: 20, new: row("1"))))
        try processor.process(.commit(Commit(flags: 0, commitLSN: 100, endLSN: 108, commitTime: pgTime(1_000))))
        #expect(processor.takeCheckpoint()?.tableShapes.isEmpty == true)
    }

    @Test func twoShapesInOneTransactionKeepTheLater() throws {
        var processor = makeProcessor()
        var altered = accountsRelation
        altered.replicaIdentity = .full
        try processor.process(.begin(Begin(finalLSN: 100, commitTime: pgTime(1_000), xid: 1)))
        try processor.process(.relation(accountsRelation))
        try processor.process(.insert(Insert(relationOID: 10, new: row("1", "5"))))
        try processor.process(.relation(altered))
        try processor.process(.insert(Insert(relationOID: 10, new: row("2", "5"))))
        try processor.process(.commit(Commit(flags: 0, commitLSN: 100, endLSN: 108, commitTime: pgTime(1_000))))
        #expect(processor.takeCheckpoint()?.tableShapes.map(\.relation) == [altered])
    }

    @Test func aShapeChangeAloneStillNeedsACheckpoint() throws {
        var processor = makeProcessor()
        var other = accountsRelation
        other.oid = 11
        try processor.process(.begin(Begin(finalLSN: 100, commitTime: pgTime(1_000), xid: 1)))
        try processor.process(.relation(other))
        try processor.process(.commit(Commit(flags: 0, commitLSN: 100, endLSN: 108, commitTime: pgTime(1_000))))
        #expect(processor.hasPendingCheckpoint)
        #expect(processor.takeCheckpoint()?.lsn == 108)
    }

    @Test func theSinksRowsGiveTheSameRelationBack() throws {
        let payload = TableShape.payload([TableShape(relation: accountsRelation, lsn: 0x1_0000_0010, commitTime: nil)])
        let record = try #require(DaybookJSON.decode([JSONValue].self, from: payload)?.first)
        #expect(record["lsn"] == .string("1/10"))
        #expect(record["commit_micros"] == nil)
        let columns = DaybookJSON.text(try #require(record["columns"]))
        #expect(
            TableShape.relation(
                oid: 10,
                schemaName: "app",
                tableName: "accounts",
                replicaIdentity: "d",
                columns: columns
            ) == accountsRelation
        )
    }
}
