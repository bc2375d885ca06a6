import PostgresReplication
import Testing

struct ReplicationFrameTests {
    private func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
    }

    @Test func parsesXLogData() throws {
        let bytes =
            [UInt8(ascii: "w")] + bigEndian(0x16_B374_D848) + bigEndian(0x16_B374_D900) + bigEndian(42) + [1, 2, 3]
        #expect(
            try ReplicationFrame.parse(bytes)
                == .xLogData(walStart: 0x16_B374_D848, walEnd: 0x16_B374_D900, sendTime: 42, payload: [1, 2, 3])
        )
    }

    @Test func parsesKeepaliveWithReplyRequested() throws {
        let bytes = [UInt8(ascii: "k")] + bigEndian(0x100) + bigEndian(7) + [1]
        #expect(try ReplicationFrame.parse(bytes) == .keepalive(walEnd: 0x100, sendTime: 7, replyRequested: true))
    }

    @Test func rejectsShortAndUnknownFrames() {
        for length in 0..<25 {
            let bytes = Array(([UInt8(ascii: "w")] + [UInt8](repeating: 0, count: 30)).prefix(length))
            #expect(throws: PostgresError.self) { try ReplicationFrame.parse(bytes) }
        }
        for length in 1..<18 {
            let bytes = Array(([UInt8(ascii: "k")] + [UInt8](repeating: 0, count: 20)).prefix(length))
            #expect(throws: PostgresError.self) { try ReplicationFrame.parse(bytes) }
        }
        #expect(throws: PostgresError.self) { try ReplicationFrame.parse([UInt8(ascii: "x"), 0, 0]) }
    }

    @Test func encodesStandbyStatusUpdate() {
        let status = StandbyStatusUpdate(write: 0x300, flush: 0x200, apply: 0x100, clientTime: 5, replyRequested: true)
        let bytes = status.encoded
        #expect(bytes.count == 34)
        #expect(bytes[0] == UInt8(ascii: "r"))
        #expect(Array(bytes[1..<9]) == bigEndian(0x300))
        #expect(Array(bytes[9..<17]) == bigEndian(0x200))
        #expect(Array(bytes[17..<25]) == bigEndian(0x100))
        #expect(Array(bytes[25..<33]) == bigEndian(5))
        #expect(bytes[33] == 1)
    }
}
