import Daybook
import DaybookCore
import Foundation
import PgOutput
import Testing
import WAL
import Windowing

/// Capture levels and the events of `values` tables, in the pure processor: messages in,
/// events with their row images out.
struct ValueEventProcessingTests {
    private func makeProcessor(rules: [CaptureRule] = [], slot: String = "s") -> ChangeProcessor {
        let engine = WindowingEngine(
            calendar: WindowCalendar(length: try! WindowLength(seconds: 10), timeZone: TimeZone(identifier: "UTC")!),
            grace: .seconds(2),
            streamTime: nil,
            openWindows: []
        )
        var settings = ChangeProcessor.Settings()
        settings.slot = slot
        return ChangeProcessor(engine: engine, committedLSN: 0, captureRules: rules, settings: settings)
    }

    /// app.users (id key, name, password_hash, bio).
    private let users = Relation(
        oid: 10,
        namespace: "app",
        name: "users",
        replicaIdentity: .default,
        columns: [
            .init(flags: 1, name: "id", typeOID: 23, typeModifier: -1),
            .init(flags: 0, name: "name", typeOID: 25, typeModifier: -1),
            .init(flags: 0, name: "password_hash", typeOID: 25, typeModifier: -1),
            .init(flags: 0, name: "bio", typeOID: 25, typeModifier: -1),
        ]
    )

    private func valuesRule(
        since: LSN,
        slot: String = "s",
        exclude: [String] = [],
        level: CaptureLevel = .values
    )
        -> CaptureRule
    {
        CaptureRule(slot: slot, table: "app.users", level: level, excludedColumns: exclude, sinceLSN: since)
    }

    /// An event's texts, for comparing.
    private struct EventText: Equatable, CustomStringConvertible {
        var op: Character
        var key: String
        var row: String?
        var oldRow: String? = nil
        var oldKey: String? = nil
        var newKey: String? = nil
        var unchanged: String? = nil
        var sequence: Int32 = 0
        var description: String { "\(op) \(key) row=\(row ?? "-") old=\(oldRow ?? "-") unchanged=\(unchanged ?? "-")" }
    }

    private func events(_ log: ValueEventLog) -> [EventText] {
        func string(_ bytes: UnsafeRawBufferPointer?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
        return log.events.indices.map { index in
            log.withImages(at: index) { images in
                EventText(
                    op: log.events[index].operation.letter,
                    key: string(images.key)!,
                    row: string(images.row),
                    oldRow: string(images.oldRow),
                    oldKey: string(images.oldKey),
                    newKey: string(images.newKey),
                    unchanged: string(images.unchanged),
                    sequence: log.events[index].sequence
                )
            }
        }
    }

    @Test func withoutARuleATableIsCapturedAtKeysWithNoEvents() throws {
        var processor = makeProcessor()
        processor.register(users, primaryKey: ["id"])
        try transaction(
            &processor,
            lsn: 100,
            at: 1_000_001,
            [.insert(Insert(relationOID: 10, new: row("1", "a", "h", "b")))]
        )
        let taken = processor.takeCheckpoint()
        let checkpoint = try #require(taken)
        #expect(checkpoint.batch.events.isEmpty)
        #expect(checkpoint.batch.keys.count == 1)
        #expect(checkpoint.batch.tables.values.first?.levels == CaptureLevel.keys.bit)
    }

    @Test func valuesTablesKeepEveryChangeWithItsRowImageInOrder() throws {
        var processor = makeProcessor(rules: [valuesRule(since: 50, exclude: ["password_hash"])])
        processor.register(users, primaryKey: ["id"])
        try transaction(
            &processor,
            lsn: 100,
            at: 1_000_001,
            [
                .insert(Insert(relationOID: 10, new: row("1", "Ann", "secret", nil))),
                .update(
                    Update(relationOID: 10, oldKind: nil, old: nil, new: row("1", "Anne", "secret2", "hi \"there\""))
                ),
            ]
        )
        try transaction(
            &processor,
            lsn: 200,
            at: 1_000_002,
            [
                .delete(Delete(relationOID: 10, oldKind: .key, old: row("1", nil, nil, nil)))
            ]
        )
        let taken = processor.takeCheckpoint()
        let checkpoint = try #require(taken)
        #expect(
            events(checkpoint.batch.events) == [
                EventText(op: "I", key: #"{"id":"1"}"#, row: #"{"id":"1","name":"Ann","bio":null}"#, sequence: 0),
                EventText(
                    op: "U",
                    key: #"{"id":"1"}"#,
                    row: #"{"id":"1","name":"Anne","bio":"hi \"there\""}"#,
                    sequence: 1
                ),
                // A key-only old row is no image: the key says it all.
                EventText(op: "D", key: #"{"id":"1"}"#, row: nil, sequence: 0),
            ]
        )
        #expect(checkpoint.batch.events.events.map(\.lsn) == [100, 100, 200])
        #expect(checkpoint.batch.tables.values.first?.levels == CaptureLevel.values.bit)
        // The key's operations are recorded as at the keys level.
        #expect(checkpoint.batch.keys.values.first?.ops == [.insert, .update, .delete])
    }

    @Test func anExcludedColumnNeverReachesTheBatch() throws {
        var processor = makeProcessor(rules: [valuesRule(since: 50, exclude: ["password_hash"])])
        processor.register(users, primaryKey: ["id"])
        try transaction(
            &processor,
            lsn: 100,
            at: 1_000_001,
            [
                .insert(Insert(relationOID: 10, new: row("1", "Ann", "s3cr3t-hash", nil)))
            ]
        )
        let taken = processor.takeCheckpoint()
        let checkpoint = try #require(taken)
        let all = events(checkpoint.batch.events).map(\.description).joined()
        #expect(!all.contains("s3cr3t") && !all.contains("password_hash"))
    }

    @Test func unchangedToastIsFilledFromAWholeOldRowAndOtherwiseNamedUnknown() throws {
        var full = users
        full.replicaIdentity = .full
        var processor = makeProcessor(rules: [valuesRule(since: 50)])
        processor.register(users, primaryKey: ["id"])
        try transaction(
            &processor,
            lsn: 100,
            at: 1_000_001,
            [
                .update(
                    Update(
                        relationOID: 10,
                        oldKind: nil,
                        old: nil,
                        new: TupleData(columns: [text("1"), text("Ann"), .null, .unchangedToast])
                    )
                )
            ]
        )
        processor.register(full, primaryKey: ["id"])
        try transaction(
            &processor,
            lsn: 200,
            at: 1_000_002,
            [
                .update(
                    Update(
                        relationOID: 10,
                        oldKind: .full,
                        old: row("1", "Ann", nil, "long bio"),
                        new: TupleData(columns: [text("1"), text("Anna"), .null, .unchangedToast])
                    )
                )
            ]
        )
        let taken = processor.takeCheckpoint()
        let checkpoint = try #require(taken)
        #expect(
            events(checkpoint.batch.events) == [
                EventText(
                    op: "U",
                    key: #"{"id":"1"}"#,
                    row: #"{"id":"1","name":"Ann","password_hash":null}"#,
                    unchanged: #"["bio"]"#
                ),
                EventText(
                    op: "U",
                    key: #"{"id":"1"}"#,
                    row: #"{"id":"1","name":"Anna","password_hash":null,"bio":"long bio"}"#,
                    oldRow: #"{"id":"1","name":"Ann","password_hash":null,"bio":"long bio"}"#
                ),
            ]
        )
    }

    @Test func aKeyChangeIsADeleteOnTheOldKeyAndAnInsertOnTheNewOne() throws {
        var processor = makeProcessor(rules: [valuesRule(since: 50)])
        processor.register(users, primaryKey: ["id"])
        try transaction(
            &processor,
            lsn: 100,
            at: 1_000_001,
            [
                .update(
                    Update(relationOID: 10, oldKind: .key, old: row("1", nil, nil, nil), new: row("7", "Ann", nil, nil))
                )
            ]
        )
        let taken = processor.takeCheckpoint()
        let checkpoint = try #require(taken)
        #expect(
            events(checkpoint.batch.events) == [
                EventText(op: "D", key: #"{"id":"1"}"#, row: nil, newKey: #"{"id":"7"}"#),
                EventText(
                    op: "I",
                    key: #"{"id":"7"}"#,
                    row: #"{"id":"7","name":"Ann","password_hash":null,"bio":null}"#,
                    oldKey: #"{"id":"1"}"#
                ),
            ]
        )
    }

    @Test func aRuleAppliesFromTheTransactionsCommittedAfterItsMessage() throws {
        var processor = makeProcessor()
        processor.register(users, primaryKey: ["id"])
        try transaction(
            &processor,
            lsn: 100,
            at: 1_000_001,
            [.insert(Insert(relationOID: 10, new: row("1", "a", nil, nil)))]
        )
        let rule = valuesRule(since: 150)
        let message = LogicalMessage(
            transactional: true,
            lsn: LSN(150),
            prefix: CaptureRule.messagePrefix,
            content: ArraySlice(rule.messageContent.utf8)
        )
        try transaction(&processor, lsn: 160, at: 1_000_002, [.message(message)])
        try transaction(
            &processor,
            lsn: 200,
            at: 1_000_003,
            [.insert(Insert(relationOID: 10, new: row("2", "b", nil, nil)))]
        )
        let taken = processor.takeCheckpoint()
        let checkpoint = try #require(taken)
        #expect(events(checkpoint.batch.events).map(\.key) == [#"{"id":"2"}"#])
        #expect(checkpoint.captureRules == [rule])
        // One window captured at two levels says so.
        #expect(checkpoint.batch.tables.values.first?.levels == CaptureLevel.keys.bit | CaptureLevel.values.bit)
    }

    @Test func aReplayedOrForeignRuleChangesNothing() throws {
        let rule = valuesRule(since: 150)
        var processor = makeProcessor(rules: [rule])
        processor.register(users, primaryKey: ["id"])
        let replay = LogicalMessage(
            transactional: true,
            lsn: LSN(150),
            prefix: CaptureRule.messagePrefix,
            content: ArraySlice(rule.messageContent.utf8)
        )
        let foreign = valuesRule(since: 170, slot: "other", level: .counts)
        let other = LogicalMessage(
            transactional: true,
            lsn: LSN(170),
            prefix: CaptureRule.messagePrefix,
            content: ArraySlice(foreign.messageContent.utf8)
        )
        let garbage = LogicalMessage(
            transactional: true,
            lsn: LSN(171),
            prefix: CaptureRule.messagePrefix,
            content: ArraySlice("{not json".utf8)
        )
        try transaction(&processor, lsn: 180, at: 1_000_001, [.message(replay), .message(other), .message(garbage)])
        try transaction(
            &processor,
            lsn: 200,
            at: 1_000_002,
            [.insert(Insert(relationOID: 10, new: row("2", "b", nil, nil)))]
        )
        let taken = processor.takeCheckpoint()
        let checkpoint = try #require(taken)
        #expect(checkpoint.captureRules.isEmpty)
        #expect(checkpoint.batch.events.count == 1)
    }

    @Test func aTruncateIsRecordedAtTheTablesLevel() throws {
        var processor = makeProcessor(rules: [valuesRule(since: 50)])
        processor.register(users, primaryKey: ["id"])
        try transaction(&processor, lsn: 100, at: 1_000_001, [.truncate(Truncate(options: 0, relationOIDs: [10]))])
        let taken = processor.takeCheckpoint()
        let checkpoint = try #require(taken)
        let delta = try #require(checkpoint.batch.tables.values.first)
        #expect(delta.truncates == 1 && delta.levels == CaptureLevel.values.bit)
        #expect(checkpoint.batch.events.isEmpty)
    }

    @Test func countsTablesKeepNoKeys() throws {
        var processor = makeProcessor(rules: [valuesRule(since: 50, level: .counts)])
        processor.register(users, primaryKey: ["id"])
        try transaction(
            &processor,
            lsn: 100,
            at: 1_000_001,
            [.insert(Insert(relationOID: 10, new: row("1", "a", nil, nil)))]
        )
        let taken = processor.takeCheckpoint()
        let checkpoint = try #require(taken)
        #expect(checkpoint.batch.keys.isEmpty)
        #expect(checkpoint.batch.events.isEmpty)
        let delta = try #require(checkpoint.batch.tables.values.first)
        #expect(delta.inserts == 1 && delta.levels == CaptureLevel.counts.bit)
    }
}
