import PostgresReplication

/// The bytes a frame was parsed from, rebuilt, so the fuzzer can compare them with the input.
extension ReplicationFrame {
    var encoded: [UInt8] {
        switch self {
        case .xLogData(let walStart, let walEnd, let sendTime, let payload):
            [UInt8(ascii: "w")] + bigEndian(walStart.rawValue) + bigEndian(walEnd.rawValue) + bigEndian(UInt64(bitPattern: sendTime))
                + payload
        case .keepalive(let walEnd, let sendTime, let replyRequested):
            [UInt8(ascii: "k")] + bigEndian(walEnd.rawValue) + bigEndian(UInt64(bitPattern: sendTime)) + [replyRequested ? 1 : 0]
        }
    }
}

/// Eight bytes, most significant first.
func bigEndian(_ value: UInt64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
}

/// Reads eight bytes at `offset`, most significant first; the caller checks the length.
func readBigEndian(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
    (offset..<(offset + 8)).reduce(0) { $0 << 8 | UInt64(bytes[$1]) }
}
