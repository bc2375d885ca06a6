import Daybook
import DaybookCore
import Foundation
import PgOutput
import Testing
import WAL
import Windowing

/// The pure pipeline core, driven by message values: no server needed.
struct ChangeProcessorTests {
    /// 10-second windows in UTC, 2 seconds of grace.
    private func makeProcessor(
        committedLSN: LSN = 0,
        streamTime: Timestamp? = nil,
        open: [Window] = []
    ) -> ChangeProcessor {
        let engine = WindowingEngine(
            calendar: WindowCalendar(length: try! WindowLength(seconds: 10), timeZone: TimeZone(identifier: "UTC")!),
            grace: .seconds(2),
            streamTime: streamTime,
            openWindows: open
        )
        return ChangeProcessor(engine: engine, committedLSN: committedLSN)
    }

    private func at(_ seconds: Int64) -> Timestamp { Timestamp(secondsSinceEpoch: seconds) }
    private func window(_ start: Int64) -> Window { Window(start: at(start), end: at(start + 10)) }

    private let accounts = accountsRelation
    private let heartbeat = Relation(
        oid: 20,
        namespace: "daybook",
        name: "heartbeat",
        replicaIdentity: .default,
        columns: [.init(flags: 1, name: "id", typeOID: 23, typeModifier: -1)]
    )

    @Test func countsPerTableAndRecordsOperationsPerKey() throws {
        var processor = makeProcessor()
        processor.register(accounts, primaryKey: ["id"])
        try transaction(
            &processor,
            lsn: 100,
            at: 1_000_001,
            [
                .insert(Insert(relationOID: 10, new: row("1", "5"))),
                .insert(Insert(relationOID: 10, new: row("2", "5"))),
            ]
        )
        try transaction(
            &processor,
            lsn: 200,
            at: 1_000_002,
            [
                .update(Update(relationOID: 10, oldKind: nil, old: nil, new: row("1", "6"))),
                .delete(Delete(relationOID: 10, oldKind: .key, old: row("2", nil))),
            ]
        )
        let taken = processor.takeCheckpoint()
        let checkpoint = try #require(taken)
        #expect(checkpoint.lsn == 208)
        #expect(checkpoint.transactions == 2)
        #expect(checkpoint.opened == [window(1_000_000)])
        let delta = try #require(
            checkpoint.batch.tables[TableWindowID(windowStart: at(1_000_000), table: "app.accounts")]
        )
        #expect((delta.inserts, delta.updates, delta.deletes, delta.transactions) == (2, 1, 1, 2))
        let key1 = checkpoint.batch.keys[
            KeyWindowID(windowStart: at(1_000_000), table: "app.accounts", key: #"{"id":"1"}"#)
        ]
        #expect(key1?.ops == [.insert, .update])
        let key2 = checkpoint.batch.keys[
            KeyWindowID(windowStart: at(1_000_000), table: "app.accounts", key: #"{"id":"2"}"#)
        ]
        #expect(key2?.ops == [.insert, .delete])
        processor.checkpointCommitted(lsn: checkpoint.lsn)
        #expect(!processor.hasPendingCheckpoint)
        #expect(processor.committedLSN == 208)
    }

    /// After a gap the sink accepted, the first commit read bounds the lost commits' times.
    @Test func aCheckpointCarriesTheCommitTimeOfItsFirstTransaction() throws {
        var processor = makeProcessor()
        processor.register(accounts, primaryKey: ["id"])
        try transaction(&processor, lsn: 100, at: 1_000_001, [.insert(Insert(relationOID: 10, new: row("1", "5")))])
        try transaction(&processor, lsn: 200, at: 1_000_004, [.insert(Insert(relationOID: 10, new: row("2", "5")))])
        let taken = processor.takeCheckpoint()
        let first = try #require(taken)
        #expect(first.firstCommitTime == at(1_000_001))
        processor.checkpointCommitted(lsn: first.lsn)
        try transaction(&processor, lsn: 300, at: 1_000_007, [.insert(Insert(relationOID: 10, new: row("3", "5")))])
        #expect(processor.takeCheckpoint()?.firstCommitTime == at(1_000_007))
    }

    @Test func aKeyChangeIsOneUpdateForTheTableAndDeleteInsertForTheKeys() throws {
        var processor = makeProcessor()
        processor.register(accounts, primaryKey: ["id"])
        try transaction(
            &processor,
            lsn: 100,
            at: 1_000_001,
            [
                .update(Update(relationOID: 10, oldKind: .key, old: row("1", nil), new: row("100", "5")))
            ]
        )
        let taken = processor.takeCheckpoint()
        let checkpoint = try #require(taken)
        let delta = try #require(checkpoint.batch.tables.values.first)
        #expect((delta.inserts, delta.updates, delta.deletes) == (0, 1, 0))
        let ops = Dictionary(uniqueKeysWithValues: checkpoint.batch.keys.map { ($0.key.key, $0.value.ops) })
        #expect(ops == [#"{"id":"1"}"#: [.delete], #"{"id":"100"}"#: [.insert]])
    }

    @Test func aHeartbeatAloneClosesTheWindowAndIsNeverCounted() throws {
        var processor = makeProcessor()
        processor.register(accounts, primaryKey: ["id"])
        processor.register(heartbeat, primaryKey: ["id"])
        try transaction(&processor, lsn: 100, at: 1_000_001, [.insert(Insert(relationOID: 10, new: row("1", "5")))])
        try transaction(
            &processor,
            lsn: 200,
            at: 1_000_011,
            [.update(Update(relationOID: 20, oldKind: nil, old: nil, new: row("1")))]
        )
        #expect(!processor.hasClosedWindows, "stream time 1_000_011 < end 1_000_010 + grace 2")
        try transaction(
            &processor,
            lsn: 300,
            at: 1_000_012,
            [.update(Update(relationOID: 20, oldKind: nil, old: nil, new: row("1")))]
        )
        let taken = processor.takeCheckpoint()
        let checkpoint = try #require(taken)
        #expect(
            checkpoint.closed == [
                WindowClosure(window: window(1_000_000), reason: .heartbeat, streamTime: at(1_000_012))
            ]
        )
        #expect(checkpoint.batch.tables.keys.map(\.table) == ["app.accounts"])
        #expect(checkpoint.opened == [window(1_000_000)], "heartbeats open no window")
        #expect(checkpoint.streamTime == at(1_000_012))
        #expect(checkpoint.lsn == 308)
    }

    @Test func aHeartbeatMessageCountsAsAHeartbeat() throws {
        var processor = makeProcessor(streamTime: at(1_000_005), open: [window(1_000_000)])
        try transaction(
            &processor,
            lsn: 100,
            at: 1_000_020,
            [
                .message(LogicalMessage(transactional: true, lsn: LSN(90), prefix: "daybook.heartbeat", content: []))
            ]
        )
        let taken = processor.takeCheckpoint()
        #expect(taken?.closed.map(\.reason) == [.heartbeat])
    }

    @Test func transactionsAlreadyInTheSinkAreSkipped() throws {
        var processor = makeProcessor(committedLSN: 500)
        processor.register(accounts, primaryKey: ["id"])
        try transaction(&processor, lsn: 400, at: 1_000_001, [.insert(Insert(relationOID: 10, new: row("1", "5")))])
        #expect(processor.skippedTransactions == 1)
        #expect(!processor.hasPendingCheckpoint)
        try transaction(&processor, lsn: 500, at: 1_000_002, [.insert(Insert(relationOID: 10, new: row("2", "5")))])
        let taken = processor.takeCheckpoint()
        #expect(taken?.batch.changeCount == 1)
    }

    @Test func changesForAClosedWindowAreLateAndKept() throws {
        var processor = makeProcessor(streamTime: at(1_000_013))
        processor.register(accounts, primaryKey: ["id"])
        try transaction(&processor, lsn: 100, at: 1_000_009, [.insert(Insert(relationOID: 10, new: row("1", "5")))])
        let taken = processor.takeCheckpoint()
        let checkpoint = try #require(taken)
        #expect(checkpoint.batch.tables.isEmpty)
        #expect(checkpoint.opened.isEmpty)
        let late = try #require(checkpoint.batch.late.first)
        #expect(late.window == window(1_000_000))
        #expect(late.table == "app.accounts")
        #expect(late.key == #"{"id":"1"}"#)
        #expect(late.operation == .insert)
        #expect(late.lsn == 100)
        #expect(checkpoint.streamTime == at(1_000_013), "stream time never moves backwards")
    }

    @Test func truncateCountsEachTableAndNoKeys() throws {
        var processor = makeProcessor()
        let other = Relation(
            oid: 11,
            namespace: "app",
            name: "other",
            replicaIdentity: .default,
            columns: accounts.columns
        )
        processor.register(accounts, primaryKey: ["id"])
        processor.register(other, primaryKey: ["id"])
        try transaction(&processor, lsn: 100, at: 1_000_001, [.truncate(Truncate(options: 3, relationOIDs: [10, 11]))])
        let taken = processor.takeCheckpoint()
        let checkpoint = try #require(taken)
        #expect(checkpoint.batch.tables.values.map(\.truncates) == [1, 1])
        #expect(checkpoint.batch.keys.isEmpty)
    }

    @Test func keysFollowThePrimaryKeyElseTheReplicaIdentity() throws {
        var processor = makeProcessor()
        let full = Relation(
            oid: 30,
            namespace: "app",
            name: "full",
            replicaIdentity: .full,
            columns: [
                .init(flags: 1, name: "id", typeOID: 23, typeModifier: -1),
                .init(flags: 1, name: "body", typeOID: 25, typeModifier: -1),
            ]
        )
        let nothing = Relation(
            oid: 31,
            namespace: "app",
            name: "nothing",
            replicaIdentity: .nothing,
            columns: accounts.columns
        )
        processor.register(full, primaryKey: ["id"])
        processor.register(nothing, primaryKey: ["id"])
        var noPK = full
        noPK.oid = 32
        noPK.name = "nopk"
        processor.register(noPK, primaryKey: nil)
        try transaction(
            &processor,
            lsn: 100,
            at: 1_000_001,
            [
                // Under FULL with a primary key, the key is the primary key; an unchanged TOAST
                // value in the new row is taken from the old row.
                .update(
                    Update(
                        relationOID: 30,
                        oldKind: .full,
                        old: row("1", "long"),
                        new: TupleData(columns: [text("1"), .unchangedToast])
                    )
                ),
                .insert(Insert(relationOID: 31, new: row("7", "1"))),
                .update(Update(relationOID: 32, oldKind: .full, old: row("1", "a"), new: row("1", "b"))),
                .insert(Insert(relationOID: 32, new: row(nil, "c"))),
            ]
        )
        let taken = processor.takeCheckpoint()
        let checkpoint = try #require(taken)
        let keys = Dictionary(grouping: checkpoint.batch.keys, by: { $0.key.table }).mapValues { entries in
            Dictionary(uniqueKeysWithValues: entries.map { ($0.key.key, $0.value.ops) })
        }
        #expect(keys["app.full"] == [#"{"id":"1"}"#: [.update]])
        #expect(keys["app.nothing"] == nil, "identity NOTHING: counted per table only")
        #expect(
            keys["app.nopk"] == [
                #"{"id":"1","body":"a"}"#: [.delete], #"{"id":"1","body":"b"}"#: [.insert],
                #"{"id":null,"body":"c"}"#: [.insert],
            ]
        )
        #expect(checkpoint.batch.tables[TableWindowID(windowStart: at(1_000_000), table: "app.nothing")]?.inserts == 1)
    }

    @Test func replicaIdentityUsingIndexKeysByTheIndexColumns() throws {
        var processor = makeProcessor()
        let users = Relation(
            oid: 50,
            namespace: "app",
            name: "users",
            replicaIdentity: .index,
            columns: [
                .init(flags: 0, name: "id", typeOID: 23, typeModifier: -1),
                .init(flags: 1, name: "email", typeOID: 25, typeModifier: -1),
            ]
        )
        processor.register(users, primaryKey: ["id"])
        try transaction(
            &processor,
            lsn: 100,
            at: 1_000_001,
            [.delete(Delete(relationOID: 50, oldKind: .key, old: row(nil, "a@x")))]
        )
        let taken = processor.takeCheckpoint()
        let checkpoint = try #require(taken)
        #expect(checkpoint.batch.keys.keys.map(\.key) == [#"{"email":"a@x"}"#])
    }

    @Test func transactionsWithNothingCountedAreInvisible() throws {
        var processor = makeProcessor()
        let sinkTable = Relation(
            oid: 40,
            namespace: "daybook",
            name: "key_windows",
            replicaIdentity: .default,
            columns: accounts.columns
        )
        processor.register(sinkTable, primaryKey: ["id"])
        try transaction(&processor, lsn: 100, at: 1_000_001, [.insert(Insert(relationOID: 40, new: row("1", "1")))])
        try transaction(
            &processor,
            lsn: 200,
            at: 1_000_002,
            [
                .message(LogicalMessage(transactional: true, lsn: LSN(190), prefix: "someone.else", content: []))
            ]
        )
        #expect(processor.engine.streamTime == nil, "neither moves stream time")
        #expect(!processor.hasPendingCheckpoint)
    }

    @Test func outOfOrderMessagesAreTypedErrors() throws {
        var processor = makeProcessor()
        processor.register(accounts, primaryKey: ["id"])
        #expect(throws: ChangeProcessor.ProtocolError.self) {
            try processor.process(.commit(Commit(flags: 0, commitLSN: LSN(1), endLSN: LSN(2), commitTime: 0)))
        }
        #expect(throws: ChangeProcessor.ProtocolError.self) {
            try processor.process(.insert(Insert(relationOID: 10, new: row("1", "1"))))
        }
        try processor.process(.begin(Begin(finalLSN: LSN(5), commitTime: pgTime(1_000_001), xid: 1)))
        #expect(throws: ChangeProcessor.ProtocolError.self) {
            try processor.process(.insert(Insert(relationOID: 99, new: row("1"))))
        }
        #expect(throws: ChangeProcessor.ProtocolError.self) {
            try processor.process(.begin(Begin(finalLSN: LSN(6), commitTime: 0, xid: 2)))
        }
        let taken = processor.takeCheckpoint()
        #expect(taken == nil, "never a checkpoint inside a transaction")
    }

    /// Commit times at either end of Int64 must neither overflow nor trap.
    @Test func extremeCommitTimesDoNotTrap() throws {
        var processor = makeProcessor()
        processor.register(accounts, primaryKey: ["id"])
        try processor.process(.begin(Begin(finalLSN: LSN(10), commitTime: .max, xid: 1)))
        try processor.process(.insert(Insert(relationOID: 10, new: row("1", "1"))))
        try processor.process(.commit(Commit(flags: 0, commitLSN: LSN(10), endLSN: LSN(20), commitTime: .max)))
        #expect(
            processor.engine.streamTime == Timestamp(microsecondsSinceEpoch: 253_402_300_799_999_999),
            "clamped to 9999"
        )
        try processor.process(.begin(Begin(finalLSN: LSN(30), commitTime: .min, xid: 2)))
        try processor.process(.insert(Insert(relationOID: 10, new: row("2", "1"))))
        try processor.process(.commit(Commit(flags: 0, commitLSN: LSN(30), endLSN: LSN(40), commitTime: .min)))
        let taken = processor.takeCheckpoint()
        #expect(taken?.batch.late.count == 1, "a commit at the dawn of time is late, not a crash")
    }

    @Test func startUpClosesWhatIsAlreadyDue() {
        var processor = makeProcessor(streamTime: at(1_000_012), open: [window(1_000_000), window(1_000_010)])
        processor.closeDueAtStartup()
        let checkpoint = processor.takeCheckpoint()
        #expect(
            checkpoint?.closed == [
                WindowClosure(window: window(1_000_000), reason: .startup, streamTime: at(1_000_012))
            ]
        )
        #expect(checkpoint?.lsn == 0)
    }
}
