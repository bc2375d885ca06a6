import PostgresReplication
import WAL

/// The invariants of ``ReplicationFrame/parse(_:)`` on arbitrary bytes, and of the standby
/// status update built from them.
///
/// The parser's contract is small enough to check completely: it accepts exactly the inputs
/// that start with `w` and hold the 25-byte header, or start with `k` and hold 18 bytes; an
/// XLogData frame rebuilt from its fields is the input again; a keepalive rebuilt is the input's
/// first 18 bytes, with any non-zero reply byte read as "reply requested".
enum FrameChecks {
    /// Checks one input and returns the payload when it is an XLogData frame.
    static func check(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        checkStatusUpdate(bytes)
        let wellFormed =
            switch bytes.first {
            case UInt8(ascii: "w"): bytes.count >= 25
            case UInt8(ascii: "k"): bytes.count >= 18
            default: false
            }
        let frame: ReplicationFrame
        do {
            frame = try ReplicationFrame.parse(bytes)
        } catch {
            invariant(!wellFormed, "a well-formed frame was rejected: \(error)", bytes)
            invariant(error.code == .protocolViolation, "frame error with code \(error.code)", bytes)
            invariant(!error.message.isEmpty && error.sqlState == nil, "frame error without message", bytes)
            return nil
        }
        invariant(wellFormed, "a malformed frame was accepted as \(frame)", bytes)
        invariant((try? ReplicationFrame.parse(Array(bytes))) == frame, "the [UInt8] overload disagrees", bytes)
        switch frame {
        case .xLogData(_, _, _, let payload):
            invariant(frame.encoded.elementsEqual(bytes), "XLogData rebuilt differs from the input", bytes)
            return payload
        case .keepalive(_, _, let replyRequested):
            invariant(frame.encoded.prefix(17).elementsEqual(bytes.prefix(17)), "keepalive rebuilt differs", bytes)
            invariant(replyRequested == (bytes[17] != 0), "reply byte \(bytes[17]) read as \(replyRequested)", bytes)
            return nil
        }
    }

    /// Builds a status update from the input's first 33 bytes and checks its 34-byte encoding.
    private static func checkStatusUpdate(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 33 else { return }
        let status = StandbyStatusUpdate(
            write: LSN(readBigEndian(bytes, at: 0)), flush: LSN(readBigEndian(bytes, at: 8)),
            apply: LSN(readBigEndian(bytes, at: 16)),
            clientTime: Int64(bitPattern: readBigEndian(bytes, at: 24)), replyRequested: bytes[32] & 1 == 1)
        let expected =
            [UInt8(ascii: "r")] + bytes.prefix(32) + [status.replyRequested ? 1 : 0]
        invariant(status.encoded == expected, "status update encodes to \(status.encoded)", bytes)
    }
}
