import Foundation
import PgOutput
import Testing
import WAL
import Windowing

@testable import DaybookCore

/// Who changed what, from the stream alone: `daybook.actor` messages and Origin messages
/// fold into per-table, per-window counts of attributed changes. No server.
struct AttributionTests {
    private func makeProcessor() -> ChangeProcessor {
        ChangeProcessor(engine: dayWindowsEngine(), committedLSN: 0, tableShapes: [])
    }

    private func actorMessage(_ json: String, transactional: Bool = true, lsn: UInt64 = 1) -> PgOutputMessage {
        .message(
            LogicalMessage(
                transactional: transactional,
                lsn: LSN(lsn),
                prefix: ActorClaim.messagePrefix,
                content: ArraySlice(json.utf8)
            )
        )
    }

    private func insert(_ id: String) -> PgOutputMessage {
        .insert(Insert(relationOID: accountsRelation.oid, new: row(id, "5")))
    }

    /// One transaction of `messages` committing at `lsn`.
    private func run(_ processor: inout ChangeProcessor, lsn: UInt64, _ messages: [PgOutputMessage]) throws {
        try processor.process(.begin(Begin(finalLSN: LSN(lsn), commitTime: pgTime(1_000), xid: 1)))
        try processor.process(.relation(accountsRelation))
        for message in messages { try processor.process(message) }
        try processor.process(
            .commit(Commit(flags: 0, commitLSN: LSN(lsn), endLSN: LSN(lsn + 8), commitTime: pgTime(1_000)))
        )
    }

    /// The checkpoint's counts as "actor/application/origin" → changes.
    private func counts(_ checkpoint: Checkpoint?) -> [String: Int] {
        guard let checkpoint else { return [:] }
        var result: [String: Int] = [:]
        for (entry, count) in checkpoint.attribution.counts {
            let who = checkpoint.attribution.attributions[Int(entry.attribution)]
            result["\(who.actor)/\(who.application)/\(who.origin)", default: 0] += count
        }
        return result
    }

    @Test func actAsCoversTheChangesThatFollowItInItsTransaction() throws {
        var processor = makeProcessor()
        try run(
            &processor,
            lsn: 100,
            [
                insert("1"),
                actorMessage(#"{"via":"act_as","user":"alice","app":"web","request":"r-1"}"#),
                insert("2"), insert("3"),
                actorMessage(#"{"via":"act_as","user":"bob","app":"web"}"#),
                insert("4"),
            ]
        )
        // The first insert came before any claim: unattributed (not counted here).
        #expect(counts(processor.takeCheckpoint()) == ["alice/web/": 2, "bob/web/": 1])
    }

    @Test func actAsWinsOverTheStatementTriggerAndTheTriggerCoversItsStatement() throws {
        var processor = makeProcessor()
        try run(
            &processor,
            lsn: 100,
            [
                actorMessage(#"{"via":"trigger","user":"app_rw","app":"batch","session_user":"app_rw"}"#),
                insert("1"), insert("2"),
                actorMessage(#"{"via":"trigger","user":"reporting","app":"psql"}"#),
                insert("3"),
            ]
        )
        #expect(counts(processor.takeCheckpoint()) == ["app_rw/batch/": 2, "reporting/psql/": 1])
        try run(
            &processor,
            lsn: 200,
            [
                actorMessage(#"{"via":"act_as","user":"carol","app":"web"}"#),
                actorMessage(#"{"via":"trigger","user":"app_rw","app":"web"}"#),
                insert("4"),
            ]
        )
        #expect(counts(processor.takeCheckpoint()) == ["carol/web/": 1])
    }

    @Test func aTriggerClaimCoversItsOwnTableOnly() throws {
        let notes = Relation(
            oid: 30,
            namespace: "app",
            name: "notes",
            replicaIdentity: .default,
            columns: [.init(flags: 1, name: "id", typeOID: 23, typeModifier: -1)]
        )
        var processor = makeProcessor()
        try processor.process(.begin(Begin(finalLSN: LSN(100), commitTime: pgTime(1_000), xid: 1)))
        try processor.process(.relation(accountsRelation))
        // A statement on app.accounts (which has the trigger), then one on app.notes (which
        // has none): the second is not the first statement's.
        try processor.process(actorMessage(#"{"via":"trigger","user":"clerk","app":"web","table":"app.accounts"}"#))
        try processor.process(insert("1"))
        try processor.process(.relation(notes))
        try processor.process(.insert(Insert(relationOID: 30, new: row("1"))))
        try processor.process(insert("2"))
        try processor.process(
            .commit(Commit(flags: 0, commitLSN: LSN(100), endLSN: LSN(108), commitTime: pgTime(1_000)))
        )
        let checkpoint = processor.takeCheckpoint()
        #expect(counts(checkpoint) == ["clerk/web/": 2])
        let attributedTables = Set(checkpoint?.attribution.counts.keys.map { $0.table } ?? [])
        #expect(attributedTables.map { checkpoint?.batch.tableNames[Int($0)] } == ["app.accounts"])
    }

    @Test func controlCharactersAreRefused() throws {
        var processor = makeProcessor()
        try run(
            &processor,
            lsn: 100,
            [
                actorMessage(#"{"via":"act_as","user":"a\u0000b"}"#), insert("1"),
                actorMessage(#"{"via":"act_as","user":"alice\nUnusual: app.forged"}"#), insert("2"),
            ]
        )
        let checkpoint = processor.takeCheckpoint()
        #expect(counts(checkpoint).isEmpty)
        #expect(checkpoint?.attributionProblems == [.controlCharacter: 2])
    }

    @Test func aClaimEndsWithItsTransaction() throws {
        var processor = makeProcessor()
        try run(&processor, lsn: 100, [actorMessage(#"{"via":"act_as","user":"alice"}"#), insert("1")])
        try run(&processor, lsn: 200, [insert("2")])
        #expect(counts(processor.takeCheckpoint()) == ["alice//": 1])
    }

    @Test func replicatedChangesCarryTheirOrigin() throws {
        var processor = makeProcessor()
        try processor.process(.begin(Begin(finalLSN: LSN(100), commitTime: pgTime(1_000), xid: 1)))
        try processor.process(.origin(Origin(commitLSN: LSN(7), name: "node_b")))
        try processor.process(.relation(accountsRelation))
        try processor.process(insert("1"))
        try processor.process(actorMessage(#"{"via":"act_as","user":"dave","app":"sync"}"#))
        try processor.process(insert("2"))
        try processor.process(
            .commit(Commit(flags: 0, commitLSN: LSN(100), endLSN: LSN(108), commitTime: pgTime(1_000)))
        )
        let checkpoint = processor.takeCheckpoint()
        #expect(counts(checkpoint) == ["//node_b": 1, "dave/sync/node_b": 1])
    }

    @Test func refusedMessagesLeaveTheirChangesUnattributedAndAreCountedByKind() throws {
        var processor = makeProcessor()
        let oversized = String(repeating: "x", count: ActorClaim.maximumLength + 1)
        try run(
            &processor,
            lsn: 100,
            [
                actorMessage(#"{"via":"act_as","user":"alice"}"#), insert("1"),
                actorMessage("not json"), insert("2"),
                actorMessage(#"{"via":"act_as","user":"alice"}"#), insert("3"),
                actorMessage(#"{"via":"act_as","user":null,"app":"web"}"#), insert("4"),
                actorMessage(#"{"via":"act_as","user":"\#(oversized)"}"#), insert("5"),
                actorMessage(#"{"user":"mallory"}"#), insert("6"),
                actorMessage(#"{"via":"act_as","user":"alice"}"#, transactional: false), insert("7"),
            ]
        )
        let checkpoint = processor.takeCheckpoint()
        // Only 1 and 3 are alice's; a non-transactional message changes nothing in the
        // transaction (it is refused on its own), so 7 stays unattributed after 6.
        #expect(counts(checkpoint) == ["alice//": 2])
        #expect(
            checkpoint?.attributionProblems == [
                .notJSON: 1, .noActor: 1, .oversized: 1, .unknownSource: 1, .notTransactional: 1,
            ]
        )
    }

    @Test func skippedTransactionsAreNotCountedAgain() throws {
        var processor = ChangeProcessor(engine: dayWindowsEngine(), committedLSN: LSN(500), tableShapes: [])
        try run(&processor, lsn: 100, [actorMessage(#"{"via":"act_as","user":"alice"}"#), insert("1")])
        #expect(processor.takeCheckpoint()?.attribution.isEmpty ?? true)
    }
}

/// The in-place reader of actor messages agrees with the full JSON decoder on what it takes,
/// and leaves the rest to it.
struct FlatJSONObjectTests {
    @Test func readsWhatActAsAndTheTriggerWrite() {
        // json_build_object's spacing, as the functions emit it.
        let members = FlatJSONObject.parse(
            Array(#"{"via" : "act_as", "user" : "alice", "app" : "web", "request" : null}"#.utf8)
        )
        #expect(members?["via"] == .some("act_as"))
        #expect(members?["user"] == .some("alice"))
        #expect(members?["request"] == .some(nil))
    }

    @Test func decodesEscapesAsJSONDoes() throws {
        let text = #"{"user":"a\"b\\c\/d\n\u00e9\ud83d\ude00 ü","app":""}"#
        let members = try #require(FlatJSONObject.parse(Array(text.utf8)))
        let decoded = try #require(DaybookJSON.decode([String: String].self, from: text))
        #expect(members["user"] == .some(decoded["user"]))
        #expect(members["user"] == .some("a\"b\\c/d\né😀 ü"))
        #expect(members["app"] == .some(""))
    }

    @Test func leavesAnythingElseToTheFullDecoder() {
        for text in [
            #"{"user":1}"#, #"{"user":{"name":"x"}}"#, #"{"user":"x",}"#, #"{"user":"x"} trailing"#, "not json",
            #"{"user":"\ud800"}"#, "{\"user\":\"a\u{01}b\"}", #"["user"]"#, #"{"user":"unterminated}"#,
        ] {
            #expect(FlatJSONObject.parse(Array(text.utf8)) == nil, "\(text)")
        }
    }

    @Test func actorMessagesReadTheSameEitherWay() {
        // A member the fast path does not take (a number) sends the message to the full decoder,
        // which reads the same claim.
        func claim(_ json: String) -> Result<ActorClaim, AttributionProblem> {
            ActorClaim.parse(
                LogicalMessage(
                    transactional: true,
                    lsn: 1,
                    prefix: ActorClaim.messagePrefix,
                    content: ArraySlice(json.utf8)
                )
            )
        }
        let flat = claim(#"{"via":"trigger","user":"app_rw","app":"batch","client":null}"#)
        let nested = claim(#"{"via":"trigger","user":"app_rw","app":"batch","client":{"port":5432}}"#)
        #expect((try? flat.get()) == (try? nested.get()))
        #expect((try? flat.get())?.actor == "app_rw")
    }
}
