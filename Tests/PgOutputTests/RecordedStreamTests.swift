import PgOutput
import Testing
import WAL

/// Decodes the messages recorded from a real PostgreSQL 15 (see `scripts/record-pgoutput-fixtures`
/// for the workload) and checks the values the workload wrote.
///
/// OIDs, LSNs and times differ between recordings, so tests find tables by name and compare
/// those only with each other.
struct RecordedStreamTests {
    let messages: [PgOutputMessage]

    init() throws {
        messages = try RecordedFixture.decodedMessages()
        try #require(!messages.isEmpty, "Fixtures/recorded-pg15.hex is missing or empty")
    }

    /// The first Relation message for table `name`.
    func relation(_ name: String) throws -> Relation {
        try #require(messages.lazy.compactMap(\.relation).first { $0.name == name })
    }

    func inserts(into name: String) throws -> [TupleData] {
        let oid = try relation(name).oid
        return messages.compactMap(\.insert).filter { $0.relationOID == oid }.map(\.new)
    }

    func updates(of name: String) throws -> [Update] {
        let oid = try relation(name).oid
        return messages.compactMap(\.update).filter { $0.relationOID == oid }
    }

    func deletes(from name: String) throws -> [Delete] {
        let oid = try relation(name).oid
        return messages.compactMap(\.delete).filter { $0.relationOID == oid }
    }

    @Test func everyMessageKindOfTheWorkloadAppears() {
        let expected: Set = [
            "B", "C", "O", "R", "Y", "I", "U", "U/K", "U/O", "D/K", "D/O", "T", "M/transactional",
            "M/non-transactional",
        ]
        #expect(Set(messages.map(\.kind)) == expected)
    }

    @Test func transactionsAreFramedByBeginAndCommitInLSNOrder() throws {
        var open: Begin?
        var lastCommit = LSN.zero
        var transactions = 0
        for message in messages {
            switch message {
            case .begin(let begin):
                #expect(open == nil, "Begin inside a transaction")
                open = begin
            case .commit(let commit):
                let begin = try #require(open, "Commit outside a transaction")
                #expect(commit.flags == 0)
                #expect(commit.commitLSN == begin.finalLSN)
                #expect(commit.commitTime == begin.commitTime)
                #expect(commit.endLSN > commit.commitLSN)
                #expect(commit.commitLSN > lastCommit)
                lastCommit = commit.commitLSN
                open = nil
                transactions += 1
            case .message(let logical) where !logical.transactional:
                break
            default:
                #expect(open != nil, "\(message.kind) outside a transaction")
            }
        }
        #expect(open == nil)
        #expect(transactions == messages.compactMap(\.begin).count)
    }

    @Test func relationsDescribeTheRecordedTables() throws {
        typealias Column = Relation.Column
        let intPK = try relation("int_pk")
        #expect(intPK.namespace == "public")
        #expect(intPK.qualifiedName == "public.int_pk")
        #expect(intPK.replicaIdentity == .default)
        #expect(
            intPK.columns == [
                Column(flags: 1, name: "id", typeOID: 23, typeModifier: -1),
                Column(flags: 0, name: "name", typeOID: 25, typeModifier: -1),
                // numeric(10, 2): ((precision << 16) | scale) + VARHDRSZ
                Column(flags: 0, name: "amount", typeOID: 1700, typeModifier: (10 << 16 | 2) + 4),
            ]
        )

        let compositePK = try relation("composite_pk")
        #expect(compositePK.columns.map(\.name) == ["region", "day", "seq", "note"])
        #expect(compositePK.columns.map(\.isKey) == [true, true, true, false])
        #expect(compositePK.columns.map(\.typeOID) == [25, 1082, 23, 25])

        let textPK = try relation("text_pk")
        #expect(textPK.columns.map(\.name) == ["code", "label"])
        #expect(textPK.columns.map(\.isKey) == [true, false])

        let uuidPK = try relation("uuid_pk")
        #expect(uuidPK.columns.map(\.name) == ["id", "feeling"])
        #expect(uuidPK.columns.map(\.typeOID).first == 2950)
        #expect(uuidPK.columns.map(\.isKey) == [true, false])

        let toasted = try relation("toasted")
        #expect(toasted.columns.map(\.name) == ["id", "body", "counter"])
        #expect(toasted.replicaIdentity == .default)

        let noPK = try relation("no_pk")
        #expect(noPK.replicaIdentity == .full)
        #expect(noPK.columns.map(\.name) == ["a", "b"])
        #expect(noPK.columns.allSatisfy { $0.isKey }, "under FULL every column is part of the identity")
    }

    @Test func typeMessagePrecedesTheRelationThatUsesIt() throws {
        let typeIndex = try #require(messages.firstIndex { $0.type != nil })
        let type = try #require(messages[typeIndex].type)
        #expect(type.namespace == "public")
        #expect(type.name == "mood")
        #expect(type.oid >= 16384, "a user-defined type has a non-built-in OID")
        let uuidPK = try relation("uuid_pk")
        #expect(uuidPK.columns.last?.typeOID == type.oid)
        #expect(messages[typeIndex + 1].relation?.name == "uuid_pk")
    }

    @Test func insertsCarryTheInsertedValuesAndNulls() throws {
        #expect(try inserts(into: "int_pk") == [.texts("1", "alpha", "1.50"), .texts("2", "beta", nil)])
        #expect(
            try inserts(into: "composite_pk") == [
                .texts("eu", "2024-03-01", "1", "first"), .texts("us", "2024-03-01", "2", nil),
            ]
        )
        #expect(try inserts(into: "text_pk").map { $0.columns.first?.text } == ["k-1", "k-2", "k-4", "k-5", "k-6"])
        #expect(
            try inserts(into: "uuid_pk") == [
                .texts("00000000-0000-4000-8000-000000000001", "happy"),
                .texts("00000000-0000-4000-8000-000000000002", nil),
            ]
        )
        #expect(try inserts(into: "no_pk") == [.texts("1", "x"), .texts("2", nil), .texts(nil, "z")])
    }

    @Test func toastedValueIsSentInFullOnceThenAsUnchanged() throws {
        let insert = try #require(try inserts(into: "toasted").first)
        let body = try #require(insert.columns[1].text)
        #expect(body.utf8.count == 12_800)
        #expect(body.hasPrefix("c4ca4238a0b923820dcc509a6f75849b"), "md5('1')")
        #expect(body.allSatisfy { $0.isHexDigit })

        let update = try #require(try updates(of: "toasted").first)
        #expect(update.oldKind == nil)
        #expect(update.old == nil)
        #expect(update.new.columns == [.utf8("1"), .unchangedToast, .utf8("1")])
    }

    @Test func updatesCarryTheOldKeyOnlyWhenTheKeyChanges() throws {
        let oid = try relation("int_pk").oid
        #expect(
            try updates(of: "int_pk") == [
                Update(relationOID: oid, oldKind: nil, old: nil, new: .texts("1", "alpha", "2.25")),
                Update(relationOID: oid, oldKind: .key, old: .texts("2", nil, nil), new: .texts("10", "beta", nil)),
            ]
        )

        let textPK = try #require(try updates(of: "text_pk").first)
        #expect(textPK.oldKind == .key)
        #expect(textPK.old == .texts("k-2", nil))
        #expect(textPK.new == .texts("k-3", "two"))

        let composite = try #require(try updates(of: "composite_pk").first)
        #expect(composite.old == nil)
        #expect(composite.new == .texts("eu", "2024-03-01", "1", "second"))

        let uuid = try #require(try updates(of: "uuid_pk").first)
        #expect(uuid.old == nil)
        #expect(uuid.new == .texts("00000000-0000-4000-8000-000000000001", "sad"))
    }

    @Test func replicaIdentityFullSendsWholeOldRows() throws {
        let update = try #require(try updates(of: "no_pk").first)
        #expect(update.oldKind == .full)
        #expect(update.old == .texts("1", "x"))
        #expect(update.new == .texts("1", "y"))

        let delete = try #require(try deletes(from: "no_pk").first)
        #expect(delete.oldKind == .full)
        #expect(delete.old == .texts("2", nil))
    }

    @Test func deletesUnderDefaultIdentityCarryOnlyTheKey() throws {
        #expect(try deletes(from: "text_pk").map(\.old) == [.texts("k-1", nil)])
        #expect(try deletes(from: "composite_pk").map(\.old) == [.texts("us", "2024-03-01", "2", nil)])
        #expect(try deletes(from: "uuid_pk").map(\.old) == [.texts("00000000-0000-4000-8000-000000000002", nil)])
        let noPK = try relation("no_pk").oid
        #expect(messages.compactMap(\.delete).filter { $0.relationOID != noPK }.allSatisfy { $0.oldKind == .key })
    }

    @Test func truncateListsBothTablesWithCascadeAndRestartIdentity() throws {
        let truncates = messages.compactMap(\.truncate)
        #expect(truncates.count == 1)
        let truncate = try #require(truncates.first)
        #expect(truncate.options == 3)
        #expect(truncate.cascade)
        #expect(truncate.restartIdentity)
        #expect(truncate.relationOIDs == [try relation("int_pk").oid, try relation("composite_pk").oid])
    }

    @Test func logicalMessagesCarryPrefixAndContent() throws {
        let index = try #require(messages.firstIndex { $0.message?.transactional == true })
        let transactional = try #require(messages[index].message)
        #expect(transactional.prefix == "daybook.test")
        #expect(Array(transactional.content) == Array("hello".utf8))
        #expect(messages[index - 1].insert?.new.columns.first == .utf8("k-4"), "in the transaction that inserted k-4")
        let commit = try #require(messages[index + 1].commit)
        // The decoder queues a message at its record's end, which is where the commit record starts.
        #expect(transactional.lsn <= commit.commitLSN)

        let nonTransactional = try #require(messages.lazy.compactMap(\.message).first { !$0.transactional })
        #expect(nonTransactional.prefix == "daybook.tick")
        #expect(Array(nonTransactional.content) == Array("tock".utf8))
        #expect(nonTransactional.lsn > transactional.lsn)
    }

    @Test func originFollowsTheBeginOfAReplayedTransaction() throws {
        let index = try #require(messages.firstIndex { $0.origin != nil })
        let origin = try #require(messages[index].origin)
        #expect(origin.name == "daybook.fixture-origin")
        #expect(origin.commitLSN == LSN("0/1234ABCD"))
        let begin = try #require(messages[index - 1].begin)
        // pg_replication_origin_xact_setup set the commit time to 2024-03-01 12:00:00 UTC.
        #expect(begin.commitTime == (1_709_294_400 * 1_000_000 - postgresEpochOffsetMicroseconds))
        #expect(messages[index + 1].insert?.new == .texts("k-5", "from origin"))
    }
}
