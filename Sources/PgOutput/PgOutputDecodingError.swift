import WAL

/// Why a pgoutput message could not be decoded, and where.
///
/// The decoder never traps: every malformed byte sequence ends here, with the failing field
/// and its offset, so that the service can log it, stop without confirming the LSN, and let
/// an operator look at the raw bytes.
public struct PgOutputDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of check failed.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case empty, truncated, unterminatedString, unknownMessageType, unknownTupleMarker
            case unknownColumnKind, invalidLength, trailingBytes
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The message had no bytes at all.
        public static let empty = Code(.empty)
        /// A field needed more bytes than were left.
        public static let truncated = Code(.truncated)
        /// A string had no terminating NUL byte.
        public static let unterminatedString = Code(.unterminatedString)
        /// The first byte is not a pgoutput message type this decoder knows.
        public static let unknownMessageType = Code(.unknownMessageType)
        /// An Update or Delete carried a tuple marker other than `K`, `O` or `N`.
        public static let unknownTupleMarker = Code(.unknownTupleMarker)
        /// A tuple column had a kind byte other than `n`, `u`, `t` or `b`.
        public static let unknownColumnKind = Code(.unknownColumnKind)
        /// A count or length field was negative or impossible.
        public static let invalidLength = Code(.invalidLength)
        /// The message had bytes left over after its last field.
        public static let trailingBytes = Code(.trailingBytes)

        public var description: String {
            switch base {
            case .empty: "empty message"
            case .truncated: "message ends too early"
            case .unterminatedString: "string without terminating NUL"
            case .unknownMessageType: "unknown message type"
            case .unknownTupleMarker: "unknown tuple marker"
            case .unknownColumnKind: "unknown tuple column kind"
            case .invalidLength: "invalid count or length"
            case .trailingBytes: "bytes left over after the last field"
            }
        }
    }

    public let code: Code
    /// The field being read when the check failed.
    public let field: String
    /// Byte offset within the message.
    public let offset: Int
    /// The message type byte, when known (set by the decoder after the fact).
    public var messageType: UInt8?

    init(_ code: Code, field: StaticString, offset: Int, messageType: UInt8? = nil) {
        self.code = code
        self.field = "\(field)"
        self.offset = offset
        self.messageType = messageType
    }

    public var description: String {
        let type =
            messageType.map { byte in
                (0x21...0x7E).contains(byte)
                    ? " in message '\(Character(Unicode.Scalar(byte)))'"
                    : " in message type 0x\(String(byte, radix: 16))"
            } ?? ""
        return "malformed pgoutput data\(type): \(code) at byte \(offset) (field \(field))"
    }
}
