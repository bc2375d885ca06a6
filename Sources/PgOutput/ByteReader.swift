import WAL

/// A bounds-checked, big-endian cursor over one message's bytes.
///
/// Every read checks the remaining length first and throws instead of trapping, because the
/// bytes come from the network and a long-running service must survive any of them. It
/// reads a buffer it does not own (libpq's, or an array's storage), only while the decoder
/// runs.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int
    let end: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = min(max(offset, 0), bytes.count)
        self.end = bytes.count
    }

    var remaining: Int { end - offset }
    var isAtEnd: Bool { offset >= end }

    private func need(_ count: Int, _ field: StaticString) throws(PgOutputDecodingError) {
        guard count >= 0, remaining >= count else {
            throw PgOutputDecodingError(.truncated, field: field, offset: offset)
        }
    }

    mutating func readUInt8(_ field: StaticString) throws(PgOutputDecodingError) -> UInt8 {
        try need(1, field)
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt16(_ field: StaticString) throws(PgOutputDecodingError) -> UInt16 {
        try need(2, field)
        defer { offset += 2 }
        return bytes.bigEndian(UInt16.self, at: offset)
    }

    mutating func readUInt32(_ field: StaticString) throws(PgOutputDecodingError) -> UInt32 {
        try need(4, field)
        defer { offset += 4 }
        return bytes.bigEndian(UInt32.self, at: offset)
    }

    mutating func readUInt64(_ field: StaticString) throws(PgOutputDecodingError) -> UInt64 {
        try need(8, field)
        defer { offset += 8 }
        return bytes.bigEndian(UInt64.self, at: offset)
    }

    mutating func readInt32(_ field: StaticString) throws(PgOutputDecodingError) -> Int32 {
        Int32(bitPattern: try readUInt32(field))
    }

    mutating func readInt64(_ field: StaticString) throws(PgOutputDecodingError) -> Int64 {
        Int64(bitPattern: try readUInt64(field))
    }

    /// Reads a NUL-terminated string; invalid UTF-8 is repaired rather than rejected, since
    /// identifiers are only shown to people and must never stop the stream.
    mutating func readCString(_ field: StaticString) throws(PgOutputDecodingError) -> String {
        var index = offset
        while index < end, bytes[index] != 0 { index += 1 }
        guard index < end else {
            throw PgOutputDecodingError(.unterminatedString, field: field, offset: offset)
        }
        let value = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<index]), as: UTF8.self)
        offset = index + 1
        return value
    }

    /// Moves past the next `count` bytes.
    mutating func skip(_ count: Int, _ field: StaticString) throws(PgOutputDecodingError) {
        try need(count, field)
        offset += count
    }

    /// Returns a copy of the next `count` bytes.
    mutating func readBytes(_ count: Int, _ field: StaticString) throws(PgOutputDecodingError) -> [UInt8] {
        try need(count, field)
        defer { offset += count }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]))
    }
}
