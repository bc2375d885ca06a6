import PgOutput
import PgOutputTestSupport
import Testing

/// Malformed bytes must end in a typed ``PgOutputDecodingError`` naming the failing field and
/// offset, and never in a trap: the bytes come from the network.
struct MalformedInputTests {
    /// A valid Insert up to and including the new-tuple marker (6 bytes); the tuple follows.
    private static let insertHeader = ByteWriter("I").uint32(7).byte("N")

    @Test func emptyInput() {
        #expect(DecodingFailure.of([]) == DecodingFailure(.empty, "type", at: 0, in: nil))
    }

    /// The codes a cut-off message may fail with, by the field being read: strings run out of
    /// bytes before their NUL, counts may exceed what is left, every other field is truncated.
    private static func allowedTruncationCodes(field: String) -> Set<PgOutputDecodingError.Code> {
        switch field {
        case "namespace", "relation_name", "column_name", "type_namespace", "type_name", "origin_name", "prefix":
            [.unterminatedString]
        case "column_count", "tuple_column_count", "relation_count":
            [.truncated, .invalidLength]
        default:
            [.truncated]
        }
    }

    @Test func everyRecordedMessageTruncatedAtEveryOffsetThrows() throws {
        let messages = RecordedFixture.messages
        try #require(!messages.isEmpty)
        var failures: [String] = []
        var cuts = 0
        for message in messages {
            for length in 1..<message.count {
                cuts += 1
                let failure = DecodingFailure.of(Array(message[..<length]))
                if let failure, Self.allowedTruncationCodes(field: failure.field).contains(failure.code),
                    failure.offset <= length, failure.messageType == message[0]
                {
                    continue
                }
                failures.append(
                    "\(message[..<min(length, 16)].hex) cut at \(length): \(failure?.description ?? "decoded")"
                )
            }
        }
        #expect(cuts > 10_000)
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")
    }

    @Test func truncationNamesTheField() {
        let begin = ByteWriter("B").uint64(1).int64(2).uint32(3).bytes
        #expect(DecodingFailure.of(Array(begin.dropLast())) == DecodingFailure(.truncated, "xid", at: 17, in: "B"))

        let origin = ByteWriter("O").uint64(1).raw("node".utf8).bytes
        #expect(DecodingFailure.of(origin) == DecodingFailure(.unterminatedString, "origin_name", at: 9, in: "O"))

        let relation = ByteWriter("R").uint32(1).cString("public").raw("acc".utf8).bytes
        #expect(DecodingFailure.of(relation) == DecodingFailure(.unterminatedString, "relation_name", at: 12, in: "R"))

        let tuple = Self.insertHeader.int16(3).byte("n").bytes
        #expect(DecodingFailure.of(tuple) == DecodingFailure(.invalidLength, "tuple_column_count", at: 6, in: "I"))

        let value = Self.insertHeader.int16(1).byte("t").int32(5).raw("abc".utf8).bytes
        #expect(DecodingFailure.of(value) == DecodingFailure(.truncated, "column_value", at: 13, in: "I"))

        let marker = ByteWriter("U").uint32(9).byte("K").int16(1).byte("n").bytes
        #expect(DecodingFailure.of(marker) == DecodingFailure(.truncated, "tuple_marker", at: 9, in: "U"))
    }

    @Test func trailingBytesAfterEveryRecordedMessage() throws {
        try #require(!RecordedFixture.messages.isEmpty)
        for message in RecordedFixture.messages {
            #expect(
                DecodingFailure.of(message + [0])
                    == DecodingFailure(.trailingBytes, "end", at: message.count, in: message[0])
            )
        }
    }

    /// Protocol version 3 messages (two-phase, never asked for) and bytes that are no message.
    @Test(arguments: Array("bPKrpZ".utf8) + [0x00, 0x7F, 0xFF])
    func unknownMessageType(type: UInt8) {
        #expect(
            DecodingFailure.of([type, 0, 0, 0, 1]) == DecodingFailure(.unknownMessageType, "type", at: 0, in: type)
        )
    }

    @Test(arguments: [
        ByteWriter("I").uint32(7).byte("K").int16(0).bytes,
        ByteWriter("U").uint32(9).byte("X").int16(0).bytes,
        ByteWriter("D").uint32(11).byte("N").int16(0).bytes,
    ])
    func unknownTupleMarker(bytes: [UInt8]) {
        #expect(DecodingFailure.of(bytes) == DecodingFailure(.unknownTupleMarker, "tuple_marker", at: 5, in: bytes[0]))
    }

    @Test func updateWithOldTupleButNoNewTupleMarker() {
        let bytes = ByteWriter("U").uint32(9).byte("K").int16(1).byte("n").byte("K").int16(1).byte("n").bytes
        #expect(DecodingFailure.of(bytes) == DecodingFailure(.unknownTupleMarker, "tuple_marker", at: 9, in: "U"))
    }

    @Test(arguments: Array("xNTUB".utf8) + [0, 0xFF])
    func unknownColumnKind(kind: UInt8) {
        let bytes = Self.insertHeader.int16(2).byte("n").uint8(kind).int32(0).bytes
        #expect(DecodingFailure.of(bytes) == DecodingFailure(.unknownColumnKind, "column_kind", at: 9, in: "I"))
    }

    @Test func negativeLengthsAndCounts() {
        let text = Self.insertHeader.int16(1).byte("t").int32(-1).bytes
        #expect(DecodingFailure.of(text) == DecodingFailure(.invalidLength, "column_length", at: 9, in: "I"))

        let binary = Self.insertHeader.int16(1).byte("b").int32(Int32.min).bytes
        #expect(DecodingFailure.of(binary) == DecodingFailure(.invalidLength, "column_length", at: 9, in: "I"))

        let tuple = Self.insertHeader.int16(-1).byte("n").bytes
        #expect(DecodingFailure.of(tuple) == DecodingFailure(.invalidLength, "tuple_column_count", at: 6, in: "I"))

        let relation = ByteWriter("R").uint32(1).cString("").cString("t").byte("d").int16(-2).bytes
        #expect(DecodingFailure.of(relation) == DecodingFailure(.invalidLength, "column_count", at: 9, in: "R"))

        let truncate = ByteWriter("T").int32(-1).uint8(0).uint32(1).bytes
        #expect(DecodingFailure.of(truncate) == DecodingFailure(.invalidLength, "relation_count", at: 1, in: "T"))

        let message = ByteWriter("M").uint8(0).uint64(1).cString("p").int32(-5).raw([1, 2]).bytes
        #expect(DecodingFailure.of(message) == DecodingFailure(.invalidLength, "content_length", at: 12, in: "M"))
    }

    @Test func absurdCountsAndLengthsWithFewBytes() {
        let tuple = Self.insertHeader.int16(0x7FFF).byte("n").byte("n").bytes
        #expect(DecodingFailure.of(tuple) == DecodingFailure(.invalidLength, "tuple_column_count", at: 6, in: "I"))

        let relation = ByteWriter("R").uint32(1).cString("").cString("t").byte("d").int16(0x7FFF)
            .uint8(0).cString("c").uint32(23).int32(-1).bytes
        #expect(DecodingFailure.of(relation) == DecodingFailure(.invalidLength, "column_count", at: 9, in: "R"))

        let truncate = ByteWriter("T").int32(0x7FFF_FFFF).uint8(0).uint32(1).bytes
        #expect(DecodingFailure.of(truncate) == DecodingFailure(.invalidLength, "relation_count", at: 1, in: "T"))

        let column = Self.insertHeader.int16(1).byte("t").int32(0x7FFF_FFFF).raw([1, 2, 3]).bytes
        #expect(DecodingFailure.of(column) == DecodingFailure(.truncated, "column_value", at: 13, in: "I"))

        let message = ByteWriter("M").uint8(0).uint64(1).cString("p").int32(0x7FFF_FFFF).bytes
        #expect(DecodingFailure.of(message) == DecodingFailure(.truncated, "content", at: 16, in: "M"))
    }

    @Test func errorDescriptionSaysWhatAndWhere() throws {
        do {
            _ = try PgOutputDecoder.decode(Self.insertHeader.int16(1).byte("q").bytes)
            Issue.record("decoded a column of kind 'q'")
        } catch {
            let expected =
                "malformed pgoutput data in message 'I': unknown tuple column kind at byte 8 (field column_kind)"
            #expect(error.description == expected)
        }
    }
}

extension Collection<UInt8> {
    /// Lower-case hex, for failure messages.
    fileprivate var hex: String { map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
}
