import PostgresReplication
import Testing

/// The rows of a binary COPY read back whatever way the data is cut into messages.
struct BinaryCopyReaderTests {
    private static func data() -> [UInt8] {
        var encoder = BinaryCopyEncoder()
        encoder.beginRow(fieldCount: 2)
        encoder.appendInt64(7)
        encoder.appendText("seven")
        encoder.beginRow(fieldCount: 2)
        encoder.appendNull()
        encoder.appendText([UInt8](repeating: 0xAB, count: 300))
        encoder.finish()
        return encoder.bytes
    }

    @Test(arguments: [1, 2, 3, 7, 19, 20, 64, 1000])
    func rowsSurviveAnyCut(size: Int) throws {
        let bytes = Self.data()
        var reader = BinaryCopyReader()
        var rows: [[[UInt8]?]] = []
        var offset = 0
        while offset < bytes.count {
            let piece = Array(bytes[offset..<min(bytes.count, offset + size)])
            try piece.withUnsafeBytes { chunk in
                try reader.feed(chunk) { fields in rows.append(fields.map { $0.map(Array.init) }) }
            }
            offset += size
        }
        #expect(reader.isFinished)
        #expect(rows.count == 2)
        #expect(rows.first?[0] == [0, 0, 0, 0, 0, 0, 0, 7])
        #expect(rows.first?[1] == Array("seven".utf8))
        #expect(rows.last?[0] == nil)
        #expect(rows.last?[1]?.count == 300)
    }

    @Test func dataWithoutTheSignatureIsAnError() {
        var reader = BinaryCopyReader()
        #expect(throws: PostgresError.self) {
            try [UInt8](repeating: 0, count: 40).withUnsafeBytes { try reader.feed($0) { _ in } }
        }
    }
}
