/// A tiny big-endian writer for building pgoutput messages in tests, one field per call:
/// `ByteWriter("B").uint64(lsn).int64(time).uint32(xid).bytes`.
///
/// Deliberately independent of the decoder, so hand-built bytes check the decoder against the
/// protocol description rather than against itself.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// Starts a message with its type byte.
    public init(_ type: Unicode.Scalar) {
        bytes = [UInt8(ascii: type)]
    }

    /// One ASCII byte: a message type, tuple marker or column kind.
    public func byte(_ value: Unicode.Scalar) -> Self { raw([UInt8(ascii: value)]) }

    public func uint8(_ value: UInt8) -> Self { raw([value]) }

    public func int16(_ value: Int16) -> Self { bigEndian(UInt64(UInt16(bitPattern: value)), width: 2) }

    public func uint32(_ value: UInt32) -> Self { bigEndian(UInt64(value), width: 4) }

    public func int32(_ value: Int32) -> Self { bigEndian(UInt64(UInt32(bitPattern: value)), width: 4) }

    public func uint64(_ value: UInt64) -> Self { bigEndian(value, width: 8) }

    public func int64(_ value: Int64) -> Self { bigEndian(UInt64(bitPattern: value), width: 8) }

    /// A NUL-terminated string, as pgoutput writes names.
    public func cString(_ value: String) -> Self { raw(value.utf8).raw([0]) }

    public func raw(_ value: some Sequence<UInt8>) -> Self {
        var copy = self
        copy.bytes.append(contentsOf: value)
        return copy
    }

    /// A tuple column of kind `t` (text) or `b` (binary): kind byte, Int32 length, the bytes.
    public func valueColumn(_ kind: Unicode.Scalar, _ value: some Collection<UInt8>) -> Self {
        byte(kind).int32(Int32(value.count)).raw(value)
    }

    /// A text-format tuple column holding `value`.
    public func textColumn(_ value: String) -> Self { valueColumn("t", Array(value.utf8)) }

    private func bigEndian(_ value: UInt64, width: Int) -> Self {
        raw(stride(from: (width - 1) * 8, through: 0, by: -8).map { UInt8(truncatingIfNeeded: value >> UInt64($0)) })
    }
}
