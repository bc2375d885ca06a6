import WAL

/// Reads the rows of a `COPY … TO STDOUT (FORMAT binary)` from the CopyData messages it
/// arrives in, whatever way the server cuts it into messages (PostgreSQL sends one row a
/// message, the header with the first): a row split across messages is put together.
///
/// Fields are handed over in place, valid only during the call; nothing is copied unless a
/// row spans messages.
public struct BinaryCopyReader {
    private static let signature: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]
    /// Bytes of a row (or the header) that began in an earlier message.
    private var carried: [UInt8] = []
    private var sawHeader = false
    private var fields: [UnsafeRawBufferPointer?] = []
    /// Whether the trailer (the end of the data) has been read.
    public private(set) var isFinished = false

    public init() {}

    /// Reads the complete rows in `chunk` (and in what was carried over), calling `row` with
    /// each row's fields (nil for NULL).
    public mutating func feed(
        _ chunk: UnsafeRawBufferPointer,
        row: ([UnsafeRawBufferPointer?]) throws -> Void
    ) throws {
        if carried.isEmpty {
            let used = try readRows(chunk, row: row)
            if used < chunk.count { carried.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[used...])) }
        } else {
            carried.append(contentsOf: chunk)
            let all = carried
            let used = try all.withUnsafeBytes { try readRows($0, row: row) }
            carried.removeFirst(used)
        }
    }

    /// Reads what `bytes` holds whole, returning how many bytes that was.
    private mutating func readRows(
        _ bytes: UnsafeRawBufferPointer,
        row: ([UnsafeRawBufferPointer?]) throws -> Void
    ) throws -> Int {
        var offset = 0
        if !sawHeader {
            guard bytes.count >= 19 else { return 0 }
            guard bytes.prefix(11).elementsEqual(Self.signature) else {
                throw PostgresError(.protocolViolation, message: "COPY data without the binary signature")
            }
            let extensionLength = Int(Self.int32(bytes, at: 15))
            guard extensionLength >= 0 else { throw PostgresError(.protocolViolation, message: "bad COPY header") }
            guard bytes.count >= 19 + extensionLength else { return 0 }
            offset = 19 + extensionLength
            sawHeader = true
        }
        while !isFinished, bytes.count - offset >= 2 {
            let count = Int(bytes.bigEndian(Int16.self, at: offset))
            if count == -1 {
                isFinished = true
                return offset + 2
            }
            guard count >= 0 else { throw PostgresError(.protocolViolation, message: "bad COPY field count \(count)") }
            var cursor = offset + 2
            fields.removeAll(keepingCapacity: true)
            var complete = true
            for _ in 0..<count {
                guard bytes.count - cursor >= 4 else {
                    complete = false
                    break
                }
                let length = Int(Self.int32(bytes, at: cursor))
                cursor += 4
                if length < 0 {
                    fields.append(nil)
                    continue
                }
                guard bytes.count - cursor >= length else {
                    complete = false
                    break
                }
                fields.append(UnsafeRawBufferPointer(rebasing: bytes[cursor..<(cursor + length)]))
                cursor += length
            }
            guard complete else { break }
            try row(fields)
            offset = cursor
        }
        return offset
    }

    private static func int32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Int32 {
        bytes.bigEndian(Int32.self, at: offset)
    }
}
