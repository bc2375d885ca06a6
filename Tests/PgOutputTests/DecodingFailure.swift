import PgOutput

/// The parts of a ``PgOutputDecodingError`` that tests compare: what failed, where, in which
/// message type. (The error's initializer is internal to the decoder.)
struct DecodingFailure: Equatable, CustomStringConvertible {
    var code: PgOutputDecodingError.Code
    var field: String
    var offset: Int
    var messageType: UInt8?

    init(_ code: PgOutputDecodingError.Code, _ field: String, at offset: Int, in messageType: UInt8?) {
        self.code = code
        self.field = field
        self.offset = offset
        self.messageType = messageType
    }

    init(_ code: PgOutputDecodingError.Code, _ field: String, at offset: Int, in messageType: Unicode.Scalar) {
        self.init(code, field, at: offset, in: UInt8(ascii: messageType))
    }

    init(_ error: PgOutputDecodingError) {
        self.init(error.code, error.field, at: error.offset, in: error.messageType)
    }

    /// How decoding `bytes` fails, or nil when they decode.
    static func of(_ bytes: [UInt8]) -> DecodingFailure? {
        do {
            _ = try PgOutputDecoder.decode(bytes)
            return nil
        } catch {
            return DecodingFailure(error)
        }
    }

    var description: String {
        let type = messageType.map { "'\(Character(Unicode.Scalar($0)))'" } ?? "none"
        return "\(code) at \(offset) (field \(field), message \(type))"
    }
}
