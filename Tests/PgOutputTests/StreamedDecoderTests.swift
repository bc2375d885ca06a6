import PgOutput
import PgOutputTestSupport
import Testing
import WAL

/// Protocol 2's streamed transactions, laid out as in PostgreSQL's `proto.c`: the four stream
/// messages, and the xid in front of the messages inside a streamed block.
struct StreamedDecoderTests {
    private let lsn = LSN(0x16_B374_D848)
    private let time: Int64 = 770_026_400_123_456

    @Test func streamStartOfAFirstAndALaterChunk() throws {
        #expect(
            try PgOutputDecoder.decode(ByteWriter("S").uint32(741).uint8(1).bytes)
                == .streamStart(StreamStart(xid: 741, isFirstSegment: true))
        )
        #expect(
            try PgOutputDecoder.decode(ByteWriter("S").uint32(741).uint8(0).bytes)
                == .streamStart(StreamStart(xid: 741, isFirstSegment: false))
        )
    }

    @Test func streamStopHasNoFields() throws {
        #expect(try PgOutputDecoder.decode(ByteWriter("E").bytes) == .streamStop)
        #expect(throws: PgOutputDecodingError.self) { try PgOutputDecoder.decode(ByteWriter("E").uint8(0).bytes) }
    }

    @Test func streamCommitCarriesWhatACommitDoes() throws {
        let bytes = ByteWriter("c").uint32(741).uint8(0).uint64(lsn.rawValue).uint64(lsn.rawValue + 0x30).int64(time)
            .bytes
        let commit = Commit(flags: 0, commitLSN: lsn, endLSN: LSN(lsn.rawValue + 0x30), commitTime: time)
        #expect(try PgOutputDecoder.decode(bytes) == .streamCommit(StreamCommit(xid: 741, commit: commit)))
    }

    @Test func streamAbortOfATransactionAndOfASubtransaction() throws {
        let whole = try PgOutputDecoder.decode(ByteWriter("A").uint32(741).uint32(741).bytes)
        #expect(whole == .streamAbort(StreamAbort(xid: 741, subxid: 741)))
        let sub = try PgOutputDecoder.decode(ByteWriter("A").uint32(741).uint32(745).bytes)
        guard case .streamAbort(let abort) = sub else {
            Issue.record("not an abort: \(sub)")
            return
        }
        #expect(!abort.isWholeTransaction)
        #expect(abort.subxid == 745)
    }

    /// Protocol 4 with `streaming 'parallel'` appends the abort's LSN and time.
    @Test func streamAbortWithItsPlaceAndTime() throws {
        let bytes = ByteWriter("A").uint32(741).uint32(745).uint64(lsn.rawValue).int64(time).bytes
        #expect(
            try PgOutputDecoder.decode(bytes)
                == .streamAbort(StreamAbort(xid: 741, subxid: 745, abortLSN: lsn, abortTime: time))
        )
        #expect(throws: PgOutputDecodingError.self) { try PgOutputDecoder.decode(Array(bytes.prefix(15))) }
    }

    @Test func insideABlockChangesCarryTheirSubtransaction() throws {
        let insert = PgOutputMessage.insert(
            Insert(relationOID: 16_394, new: TupleData(columns: [.text(Array("7".utf8)[...])]))
        )
        let bytes = PgOutputTestEncoder.encodeStreamed(xid: 745, insert)
        #expect(bytes.count == PgOutputTestEncoder.encode(insert).count + 4)
        let decoded = try PgOutputDecoder.decodeStreamed(bytes)
        #expect(decoded.xid == 745)
        #expect(decoded.message.insert?.new.columns.first?.text == "7")
        // Outside a block the same bytes are a different (here: malformed) message.
        #expect(throws: PgOutputDecodingError.self) { try PgOutputDecoder.decode(bytes) }
    }

    @Test(arguments: ["R", "Y", "I", "U", "D", "T", "M"] as [Unicode.Scalar])
    func everyTypeThatCarriesAnXIDReadsIt(_ type: Unicode.Scalar) throws {
        let messages: [Unicode.Scalar: PgOutputMessage] = [
            "R": .relation(Relation(oid: 9, namespace: "app", name: "t", replicaIdentity: .default, columns: [])),
            "Y": .type(TypeInfo(oid: 9, namespace: "app", name: "mood")),
            "I": .insert(Insert(relationOID: 9, new: TupleData(columns: [.null]))),
            "U": .update(
                Update(
                    relationOID: 9,
                    oldKind: .key,
                    old: TupleData(columns: [.null]),
                    new: TupleData(columns: [.null])
                )
            ),
            "D": .delete(Delete(relationOID: 9, oldKind: .full, old: TupleData(columns: [.unchangedToast]))),
            "T": .truncate(Truncate(options: 1, relationOIDs: [9, 10])),
            "M": .message(LogicalMessage(transactional: true, lsn: lsn, prefix: "p", content: [1, 2][...])),
        ]
        let message = try #require(messages[type])
        #expect(PgOutputDecoder.carriesStreamedXID(UInt8(ascii: type)))
        let decoded = try PgOutputDecoder.decodeStreamed(PgOutputTestEncoder.encodeStreamed(xid: 0xFFFF_FFFE, message))
        #expect(decoded.xid == 0xFFFF_FFFE)
        #expect(decoded.message == message)
    }

    @Test func originAndStreamStopCarryNoXIDInsideABlock() throws {
        let origin = PgOutputMessage.origin(Origin(commitLSN: lsn, name: "node-a"))
        #expect(try PgOutputDecoder.decodeStreamed(PgOutputTestEncoder.encode(origin)) == (nil, origin))
        #expect(try PgOutputDecoder.decodeStreamed([UInt8(ascii: "E")]).message == .streamStop)
    }

    @Test func aStreamedMessageTooShortForItsXIDIsAnError() throws {
        for bytes in [[UInt8(ascii: "I")], [UInt8(ascii: "I"), 0, 0, 1]] {
            #expect {
                try PgOutputDecoder.decodeStreamed(bytes)
            } throws: { error in
                let error = error as? PgOutputDecodingError
                return error?.code == .truncated && error?.field == "xid" && error?.messageType == UInt8(ascii: "I")
            }
        }
    }

    @Test func streamMessagesRoundTrip() throws {
        let messages: [PgOutputMessage] = [
            .streamStart(StreamStart(xid: 1, isFirstSegment: true)), .streamStop,
            .streamCommit(
                StreamCommit(xid: 1, commit: Commit(flags: 0, commitLSN: lsn, endLSN: lsn, commitTime: time))
            ),
            .streamAbort(StreamAbort(xid: 1, subxid: 2)),
            .streamAbort(StreamAbort(xid: 1, subxid: 2, abortLSN: lsn, abortTime: time)),
        ]
        for message in messages {
            #expect(try PgOutputDecoder.decode(PgOutputTestEncoder.encode(message)) == message)
        }
    }
}
