import PgOutput
import PgOutputTestSupport
import Testing
import WAL

/// Decodes hand-built messages of every type, laid out as in PostgreSQL's `proto.c`.
struct DecoderTests {
    private let lsn = LSN(0x16_B374_D848)
    /// 2024-05-26 08:13:20.123456 UTC in microseconds since 2000-01-01.
    private let time: Int64 = 770_026_400_123_456

    @Test func begin() throws {
        let bytes = ByteWriter("B").uint64(lsn.rawValue).int64(time).uint32(0xDEAD_BEEF).bytes
        #expect(try PgOutputDecoder.decode(bytes) == .begin(Begin(finalLSN: lsn, commitTime: time, xid: 0xDEAD_BEEF)))
    }

    @Test func beginBeforeThePostgresEpochHasANegativeTime() throws {
        let bytes = ByteWriter("B").uint64(1).int64(-1).uint32(3).bytes
        #expect(try PgOutputDecoder.decode(bytes).begin?.commitTime == -1)
    }

    @Test func commit() throws {
        let bytes = ByteWriter("C").uint8(0).uint64(lsn.rawValue).uint64(lsn.rawValue + 0x30).int64(time).bytes
        #expect(
            try PgOutputDecoder.decode(bytes)
                == .commit(Commit(flags: 0, commitLSN: lsn, endLSN: LSN(lsn.rawValue + 0x30), commitTime: time))
        )
    }

    @Test func origin() throws {
        let bytes = ByteWriter("O").uint64(0x1234_ABCD).cString("node-a").bytes
        #expect(try PgOutputDecoder.decode(bytes) == .origin(Origin(commitLSN: LSN(0x1234_ABCD), name: "node-a")))
    }

    @Test func relation() throws {
        let bytes = ByteWriter("R").uint32(16_394).cString("billing").cString("größe").byte("i").int16(2)
            .uint8(1).cString("id").uint32(20).int32(-1)
            .uint8(0).cString("label").uint32(1043).int32(68)
            .bytes
        let expected = Relation(
            oid: 16_394,
            namespace: "billing",
            name: "größe",
            replicaIdentity: .index,
            columns: [
                Relation.Column(flags: 1, name: "id", typeOID: 20, typeModifier: -1),
                Relation.Column(flags: 0, name: "label", typeOID: 1043, typeModifier: 68),
            ]
        )
        #expect(try PgOutputDecoder.decode(bytes) == .relation(expected))
    }

    @Test func relationInPgCatalogWithoutColumns() throws {
        let bytes = ByteWriter("R").uint32(1).cString("").cString("empty").byte("n").int16(0).bytes
        let relation = try #require(try PgOutputDecoder.decode(bytes).relation)
        #expect(relation.namespace == "")
        #expect(relation.replicaIdentity == .nothing)
        #expect(relation.columns.isEmpty)
    }

    @Test func type() throws {
        let bytes = ByteWriter("Y").uint32(16_385).cString("public").cString("mood").bytes
        #expect(try PgOutputDecoder.decode(bytes) == .type(TypeInfo(oid: 16_385, namespace: "public", name: "mood")))
    }

    @Test func insertWithEveryColumnKind() throws {
        let bytes = ByteWriter("I").uint32(7).byte("N").int16(5)
            .byte("n").byte("u").textColumn("abc").valueColumn("b", [0, 1, 0xFF]).textColumn("")
            .bytes
        let expected = TupleData(columns: [
            .null, .unchangedToast, .utf8("abc"), .binary([0, 1, 0xFF]), .utf8(""),
        ])
        #expect(try PgOutputDecoder.decode(bytes) == .insert(Insert(relationOID: 7, new: expected)))
    }

    @Test func insertWithoutColumns() throws {
        let bytes = ByteWriter("I").uint32(7).byte("N").int16(0).bytes
        #expect(try PgOutputDecoder.decode(bytes) == .insert(Insert(relationOID: 7, new: TupleData(columns: []))))
    }

    @Test func updateWithoutOldTuple() throws {
        let bytes = ByteWriter("U").uint32(9).byte("N").int16(2).textColumn("1").byte("u").bytes
        let new = TupleData(columns: [.utf8("1"), .unchangedToast])
        #expect(try PgOutputDecoder.decode(bytes) == .update(Update(relationOID: 9, oldKind: nil, old: nil, new: new)))
    }

    @Test func updateWithOldKey() throws {
        let bytes = ByteWriter("U").uint32(9).byte("K").int16(2).textColumn("1").byte("n")
            .byte("N").int16(2).textColumn("2").textColumn("b").bytes
        #expect(
            try PgOutputDecoder.decode(bytes)
                == .update(Update(relationOID: 9, oldKind: .key, old: .texts("1", nil), new: .texts("2", "b")))
        )
    }

    @Test func updateWithOldRow() throws {
        let bytes = ByteWriter("U").uint32(9).byte("O").int16(2).textColumn("1").textColumn("a")
            .byte("N").int16(2).textColumn("1").byte("n").bytes
        #expect(
            try PgOutputDecoder.decode(bytes)
                == .update(Update(relationOID: 9, oldKind: .full, old: .texts("1", "a"), new: .texts("1", nil)))
        )
    }

    @Test func deleteWithKey() throws {
        let bytes = ByteWriter("D").uint32(11).byte("K").int16(3).textColumn("k").byte("n").byte("n").bytes
        #expect(
            try PgOutputDecoder.decode(bytes)
                == .delete(Delete(relationOID: 11, oldKind: .key, old: .texts("k", nil, nil)))
        )
    }

    @Test func deleteWithOldRow() throws {
        let bytes = ByteWriter("D").uint32(11).byte("O").int16(2).textColumn("k").valueColumn("b", [7]).bytes
        #expect(
            try PgOutputDecoder.decode(bytes)
                == .delete(
                    Delete(relationOID: 11, oldKind: .full, old: TupleData(columns: [.utf8("k"), .binary([7])]))
                )
        )
    }

    @Test(arguments: [UInt8(0), 1, 2, 3])
    func truncateWithSeveralRelations(options: UInt8) throws {
        let bytes = ByteWriter("T").int32(3).uint8(options).uint32(100).uint32(200).uint32(0xFFFF_FFFF).bytes
        let truncate = try #require(try PgOutputDecoder.decode(bytes).truncate)
        #expect(truncate == Truncate(options: options, relationOIDs: [100, 200, 0xFFFF_FFFF]))
        #expect(truncate.cascade == (options & 1 != 0))
        #expect(truncate.restartIdentity == (options & 2 != 0))
    }

    @Test func nonTransactionalMessageWithBinaryContent() throws {
        let content: [UInt8] = [0, 0xFF, 10, 0]
        let bytes = ByteWriter("M").uint8(0).uint64(lsn.rawValue).cString("daybook.hb").int32(4).raw(content).bytes
        let expected = LogicalMessage(transactional: false, lsn: lsn, prefix: "daybook.hb", content: content[...])
        #expect(try PgOutputDecoder.decode(bytes) == .message(expected))
    }

    @Test func transactionalMessageWithEmptyContent() throws {
        let bytes = ByteWriter("M").uint8(1).uint64(lsn.rawValue).cString("p").int32(0).bytes
        let message = try #require(try PgOutputDecoder.decode(bytes).message)
        #expect(message.transactional)
        #expect(message.content.isEmpty)
    }

    @Test func invalidUTF8InNamesIsRepairedNotRejected() throws {
        let bytes = ByteWriter("Y").uint32(1).cString("public").raw([0x61, 0xFF, 0x62, 0]).bytes
        #expect(try PgOutputDecoder.decode(bytes).type?.name == "a\u{FFFD}b")
    }
}
