import PgOutput
import PgOutputTestSupport
import Testing
import WAL

/// Checks the decoder against ``PgOutputTestEncoder`` in both directions: hand-made values
/// survive encode then decode, and recorded bytes survive decode then encode.
struct RoundTripTests {
    /// One value of every case, with edge values: empty strings and tuples, extreme numbers,
    /// non-ASCII names, every tuple column kind.
    static let values: [PgOutputMessage] = [
        .begin(Begin(finalLSN: LSN(0x16_B374_D848), commitTime: 770_026_400_123_456, xid: 731)),
        .begin(Begin(finalLSN: LSN(UInt64.max), commitTime: Int64.min, xid: UInt32.max)),
        .commit(Commit(flags: 0, commitLSN: LSN(0x1_0000_0000), endLSN: LSN(0x1_0000_0030), commitTime: -1)),
        .origin(Origin(commitLSN: LSN(0x1234_ABCD), name: "node-a")),
        .origin(Origin(commitLSN: .zero, name: "")),
        .relation(
            Relation(
                oid: 16_394,
                namespace: "",
                name: "tränsactions",
                replicaIdentity: .full,
                columns: [
                    Relation.Column(flags: 1, name: "id", typeOID: 20, typeModifier: -1),
                    Relation.Column(flags: 1, name: "amount", typeOID: 1700, typeModifier: 655_366),
                ]
            )
        ),
        .relation(Relation(oid: 1, namespace: "s", name: "t", replicaIdentity: .nothing, columns: [])),
        .type(TypeInfo(oid: 16_385, namespace: "public", name: "mood")),
        .insert(
            Insert(
                relationOID: 7,
                new: TupleData(columns: [.null, .unchangedToast, .utf8("abc"), .binary([0, 0xFF]), .utf8("")])
            )
        ),
        .insert(Insert(relationOID: 7, new: TupleData(columns: []))),
        .update(Update(relationOID: 9, oldKind: nil, old: nil, new: .texts("1", nil))),
        .update(Update(relationOID: 9, oldKind: .key, old: .texts("1", nil), new: .texts("2", "b"))),
        .update(Update(relationOID: 9, oldKind: .full, old: .texts("1", "a"), new: .texts("1", "b"))),
        .delete(Delete(relationOID: 11, oldKind: .key, old: .texts("k", nil))),
        .delete(Delete(relationOID: 11, oldKind: .full, old: .texts("k", "v"))),
        .truncate(Truncate(options: 3, relationOIDs: [100, 200, 300])),
        .truncate(Truncate(options: 0, relationOIDs: [])),
        .message(LogicalMessage(transactional: true, lsn: LSN(42), prefix: "daybook.test", content: [0x68, 0x69])),
        .message(LogicalMessage(transactional: false, lsn: LSN(43), prefix: "hb", content: [])),
    ]

    @Test(arguments: values)
    func decodeOfEncodeIsIdentity(message: PgOutputMessage) throws {
        #expect(try PgOutputDecoder.decode(PgOutputTestEncoder.encode(message)) == message)
    }

    @Test func valuesCoverEveryCase() {
        #expect(Set(Self.values.map(\.kind)).count == 14)
    }

    @Test func encodeOfDecodeReproducesEveryRecordedMessage() throws {
        try #require(!RecordedFixture.messages.isEmpty)
        for bytes in RecordedFixture.messages {
            #expect(PgOutputTestEncoder.encode(try PgOutputDecoder.decode(bytes)) == bytes)
        }
    }
}
