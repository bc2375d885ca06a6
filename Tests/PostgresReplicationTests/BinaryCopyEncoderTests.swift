import PostgresReplication
import Testing

/// The bytes of PostgreSQL's binary COPY format, field by field (see the COPY reference,
/// "Binary Format").
struct BinaryCopyEncoderTests {
    private let header: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [0, 0, 0, 0] + [0, 0, 0, 0]

    @Test func anEmptyStreamIsHeaderAndTrailer() {
        var encoder = BinaryCopyEncoder()
        encoder.finish()
        #expect(encoder.bytes == header + [0xFF, 0xFF])
        #expect(encoder.rowCount == 0)
    }

    @Test func fieldsAreLengthPrefixedBigEndian() {
        var encoder = BinaryCopyEncoder()
        encoder.beginRow(fieldCount: 6)
        encoder.appendText("ab")
        encoder.appendInt64(-2)
        encoder.appendInt32Field(7)
        encoder.appendLSN(0x16_B374_D848)
        encoder.appendNull()
        // 2000-01-01 00:00:01 UTC: one second after PostgreSQL's epoch.
        encoder.appendTimestamp(microsecondsSinceEpoch: 946_684_801_000_000)
        encoder.finish()
        let row: [UInt8] =
            [0, 6]
            + [0, 0, 0, 2, 0x61, 0x62]
            + [0, 0, 0, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]
            + [0, 0, 0, 4, 0, 0, 0, 7]
            + [0, 0, 0, 8, 0, 0, 0, 0x16, 0xB3, 0x74, 0xD8, 0x48]
            + [0xFF, 0xFF, 0xFF, 0xFF]
            + [0, 0, 0, 8, 0, 0, 0, 0, 0, 0x0F, 0x42, 0x40]
        #expect(encoder.bytes == header + row + [0xFF, 0xFF])
        #expect(encoder.rowCount == 1)
    }

    @Test func textWrittenInPlaceCarriesItsLength() {
        var encoder = BinaryCopyEncoder()
        encoder.beginRow(fieldCount: 1)
        encoder.appendText(count: 3) { $0.append(contentsOf: [0x49, 0x55, 0x44]) }
        #expect(encoder.bytes == header + [0, 1, 0, 0, 0, 3, 0x49, 0x55, 0x44])
    }

    @Test func resetKeepsOnlyTheHeader() {
        var encoder = BinaryCopyEncoder()
        encoder.beginRow(fieldCount: 1)
        encoder.appendText("x")
        encoder.reset()
        #expect(encoder.bytes == header)
        #expect(encoder.rowCount == 0)
    }

    @Test func flushedBlocksConcatenateToTheWholeStream() {
        func encodeRows(_ encoder: inout BinaryCopyEncoder, flushingTo sent: inout [UInt8]?) {
            for row in 0..<100 {
                encoder.beginRow(fieldCount: 2)
                encoder.appendText("row \(row)")
                encoder.appendInt32Field(Int32(row))
                if sent != nil, row % 7 == 3 { encoder.flush { sent!.append(contentsOf: $0) } }
            }
            encoder.finish()
            if sent != nil { encoder.flush { sent!.append(contentsOf: $0) } }
        }
        var whole = BinaryCopyEncoder()
        var notFlushed: [UInt8]? = nil
        encodeRows(&whole, flushingTo: &notFlushed)
        var flushing = BinaryCopyEncoder()
        var sent: [UInt8]? = []
        encodeRows(&flushing, flushingTo: &sent)
        #expect(sent == whole.bytes)
        #expect(flushing.bytes.isEmpty)
        #expect(flushing.rowCount == 100)
    }
}
