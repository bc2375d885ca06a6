import PgOutput
import PgOutputTestSupport
import Testing

/// The in-place form: row images stay in the message bytes and are read column by column.
struct InPlaceDecodingTests {
    private let insert = ByteWriter("I").uint32(16_384).byte("N").int16(4)
        .textColumn("42").byte("n").byte("u").valueColumn("b", [0xDE, 0xAD]).bytes

    @Test func columnsAreReadWhereTheyLie() throws {
        let message = try PgOutputDecoder.decodeInPlace(insert)
        guard case .insert(let oid, let new) = message else {
            Issue.record("expected an insert, got \(message)")
            return
        }
        #expect(oid == 16_384)
        #expect(new.columnCount == 4)
        #expect(new.column(0, in: insert) == .text(ArraySlice("42".utf8)))
        #expect(new.column(1, in: insert) == .null)
        #expect(new.column(2, in: insert) == .unchangedToast)
        #expect(new.column(3, in: insert) == .binary([0xDE, 0xAD][...]))
        #expect(new.column(4, in: insert) == .null, "past the last column")
        #expect(new.column(-1, in: insert) == .null)
        insert.withUnsafeBytes { buffer in
            guard case .value(let bytes) = new.column(3, in: buffer) else {
                Issue.record("expected a value")
                return
            }
            #expect(Array(bytes) == [0xDE, 0xAD])
        }
    }

    @Test func aLayoutReadAgainstOtherBytesNeverTraps() throws {
        guard case .insert(_, let new) = try PgOutputDecoder.decodeInPlace(insert) else {
            Issue.record("expected an insert")
            return
        }
        for cut in 0..<insert.count {
            let shorter = Array(insert.prefix(cut))
            for position in 0..<new.columnCount { _ = new.column(position, in: shorter) }
            _ = new.columns(in: shorter)
        }
        let garbage = [UInt8](repeating: 0x74, count: insert.count)  // "t" with huge lengths
        for position in 0..<new.columnCount { _ = new.column(position, in: garbage) }
    }

    @Test func bothFormsDecodeEveryRecordedMessageAlike() throws {
        let messages = RecordedFixture.messages
        try #require(!messages.isEmpty)
        for bytes in messages {
            let inPlace = try PgOutputDecoder.decodeInPlace(bytes)
            let fromBuffer = try bytes.withUnsafeBytes { try PgOutputDecoder.decodeInPlace($0) }
            #expect(inPlace == fromBuffer)
            #expect(PgOutputMessage(inPlace, in: bytes) == (try PgOutputDecoder.decode(bytes)))
        }
    }
}
