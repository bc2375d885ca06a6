import WAL

/// One CopyData message of the streaming replication protocol, server to client.
///
/// Pure: parsed from bytes with every length checked, so a corrupt frame is an error, not a
/// crash.
public enum ReplicationFrame: Hashable, Sendable {
    /// `w`: one pgoutput message. The header LSNs are not resume points (they are 0 for
    /// auxiliary messages); resume from Commit `end_lsn`.
    case xLogData(walStart: LSN, walEnd: LSN, sendTime: Int64, payload: [UInt8])
    /// `k`: the server's WAL end; `replyRequested` asks for a status update now.
    case keepalive(walEnd: LSN, sendTime: Int64, replyRequested: Bool)

    /// Parses one CopyData payload.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(PostgresError) -> ReplicationFrame {
        let (header, payload) = try ReplicationFrameHeader.parse(bytes)
        switch header {
        case .xLogData(let walStart, let walEnd, let sendTime):
            return .xLogData(walStart: walStart, walEnd: walEnd, sendTime: sendTime, payload: Array(payload))
        case .keepalive(let walEnd, let sendTime, let replyRequested):
            return .keepalive(walEnd: walEnd, sendTime: sendTime, replyRequested: replyRequested)
        }
    }

    public static func parse(_ bytes: [UInt8]) throws(PostgresError) -> ReplicationFrame {
        let result: Result<ReplicationFrame, PostgresError> = bytes.withUnsafeBytes { buffer in
            Result { () throws(PostgresError) in try parse(buffer) }
        }
        return try result.get()
    }
}

/// A replication frame's header; its payload stays in the buffer it arrived in.
public enum ReplicationFrameHeader: Hashable, Sendable {
    case xLogData(walStart: LSN, walEnd: LSN, sendTime: Int64)
    case keepalive(walEnd: LSN, sendTime: Int64, replyRequested: Bool)

    /// Parses one CopyData message into its header and its payload (empty for a keepalive),
    /// a view into `bytes`.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer
    ) throws(PostgresError) -> (ReplicationFrameHeader, UnsafeRawBufferPointer) {
        guard let type = bytes.first else {
            throw PostgresError(.protocolViolation, message: "empty CopyData message on the replication stream")
        }
        switch type {
        case UInt8(ascii: "w"):
            guard bytes.count >= 25 else {
                throw PostgresError(
                    .protocolViolation,
                    message: "XLogData frame of \(bytes.count) bytes is shorter than its 25-byte header"
                )
            }
            let header = ReplicationFrameHeader.xLogData(
                walStart: LSN(bytes.bigEndian(UInt64.self, at: 1)),
                walEnd: LSN(bytes.bigEndian(UInt64.self, at: 9)),
                sendTime: bytes.bigEndian(Int64.self, at: 17)
            )
            return (header, UnsafeRawBufferPointer(rebasing: bytes[25...]))
        case UInt8(ascii: "k"):
            guard bytes.count >= 18 else {
                throw PostgresError(
                    .protocolViolation,
                    message: "keepalive frame of \(bytes.count) bytes is shorter than 18 bytes"
                )
            }
            let header = ReplicationFrameHeader.keepalive(
                walEnd: LSN(bytes.bigEndian(UInt64.self, at: 1)),
                sendTime: bytes.bigEndian(Int64.self, at: 9),
                replyRequested: bytes[17] != 0
            )
            return (header, UnsafeRawBufferPointer(rebasing: bytes[18..<18]))
        default:
            throw PostgresError(.protocolViolation, message: "unknown replication frame type \(type)")
        }
    }
}

/// The client's standby status update (`r`), the only way to move the slot forward.
public struct StandbyStatusUpdate: Hashable, Sendable {
    /// Highest LSN received.
    public var write: LSN
    /// Highest LSN durably processed: the server may discard WAL before it. Only ever the
    /// end LSN of a transaction the sink has committed.
    public var flush: LSN
    public var apply: LSN
    /// Client clock, microseconds since 2000-01-01.
    public var clientTime: Int64
    public var replyRequested: Bool

    public init(write: LSN, flush: LSN, apply: LSN, clientTime: Int64, replyRequested: Bool = false) {
        self.write = write
        self.flush = flush
        self.apply = apply
        self.clientTime = clientTime
        self.replyRequested = replyRequested
    }

    /// The 34 bytes sent in CopyData.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "r")]
        bytes.reserveCapacity(34)
        for value in [write.rawValue, flush.rawValue, apply.rawValue, UInt64(bitPattern: clientTime)] {
            bytes.appendBigEndian(value)
        }
        bytes.append(replyRequested ? 1 : 0)
        return bytes
    }
}
