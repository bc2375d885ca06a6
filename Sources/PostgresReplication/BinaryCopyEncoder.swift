import WAL

/// Builds the bytes of a `COPY … FROM STDIN (FORMAT binary)` stream.
///
/// Binary COPY is the cheapest way to hand PostgreSQL many rows: no SQL to parse per row, no
/// text-to-number conversions, no escaping. Pure: it only appends to a byte buffer, which the
/// caller reuses between batches so that steady-state encoding allocates nothing.
///
/// Each row is ``beginRow(fieldCount:)`` followed by exactly that many field appends, in the
/// column order of the COPY statement.
public struct BinaryCopyEncoder: Sendable {
    public private(set) var bytes: [UInt8] = []
    public private(set) var rowCount = 0

    /// Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01), the origin of
    /// binary `timestamptz` values.
    private static let postgresEpochMicroseconds: Int64 = 946_684_800_000_000

    public init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
        reset()
    }

    /// Starts over with just the stream header, keeping the buffer's capacity.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        // Signature "PGCOPY\n\377\r\n\0", flags (no OIDs), header extension length.
        bytes.append(contentsOf: [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00])
        appendInt32(0)
        appendInt32(0)
        rowCount = 0
    }

    /// The stream's end: a field count of -1.
    public static let trailer: [UInt8] = [0xFF, 0xFF]

    /// Appends the trailer in place; call once, after the last row.
    public mutating func finish() {
        bytes.append(contentsOf: Self.trailer)
    }

    /// Hands the bytes encoded so far to `send` and goes on encoding after them, keeping the
    /// buffer's capacity: a COPY of many rows can go out while the rest are encoded, so the
    /// server works on the first rows while this side makes the next.
    public mutating func flush(to send: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try bytes.withUnsafeBytes(send)
        bytes.removeAll(keepingCapacity: true)
    }

    public mutating func beginRow(fieldCount: Int16) {
        appendInt16(fieldCount)
        rowCount += 1
    }

    /// A `text` field from UTF-8 bytes.
    public mutating func appendText(_ utf8: UnsafeRawBufferPointer) {
        appendInt32(Int32(truncatingIfNeeded: utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// A `text` field from UTF-8 bytes.
    public mutating func appendText(_ utf8: [UInt8]) {
        utf8.withUnsafeBytes { appendText($0) }
    }

    /// A `text` field.
    public mutating func appendText(_ string: String) {
        var string = string
        string.withUTF8 { appendText(UnsafeRawBufferPointer($0)) }
    }

    /// A `text` field of `count` bytes that `write` appends to the buffer.
    public mutating func appendText(count: Int, _ write: (inout [UInt8]) -> Void) {
        appendInt32(Int32(truncatingIfNeeded: count))
        write(&bytes)
    }

    /// A `bigint` field.
    public mutating func appendInt64(_ value: Int64) {
        appendInt32(8)
        bytes.appendBigEndian(value)
    }

    /// An `integer` field.
    public mutating func appendInt32Field(_ value: Int32) {
        appendInt32(4)
        appendInt32(value)
    }

    /// A `timestamptz` field from microseconds since the Unix epoch.
    public mutating func appendTimestamp(microsecondsSinceEpoch: Int64) {
        appendInt64(microsecondsSinceEpoch &- Self.postgresEpochMicroseconds)
    }

    /// A `pg_lsn` field.
    public mutating func appendLSN(_ lsn: LSN) {
        appendInt32(8)
        bytes.appendBigEndian(lsn.rawValue)
    }

    /// A `boolean` field.
    public mutating func appendBool(_ value: Bool) {
        appendInt32(1)
        bytes.append(value ? 1 : 0)
    }

    /// A NULL field.
    public mutating func appendNull() { appendInt32(-1) }

    /// The start of a field of `length` bytes: its length and `firstBytes`; the caller sends
    /// the rest itself, right after these bytes (``PostgresConnection/copyIn(_:pieces:)``), so
    /// that a large value goes out from where it lies.
    public mutating func appendFieldStart(length: Int, firstBytes: [UInt8]) {
        appendInt32(Int32(truncatingIfNeeded: length))
        bytes.append(contentsOf: firstBytes)
    }

    private mutating func appendInt16(_ value: Int16) { bytes.appendBigEndian(value) }
    private mutating func appendInt32(_ value: Int32) { bytes.appendBigEndian(value) }
}
