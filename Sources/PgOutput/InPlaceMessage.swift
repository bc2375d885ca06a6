import WAL

/// A decoded pgoutput message whose row images stay in the message's bytes.
///
/// The service decodes every message this way: a row change costs no allocation, and only
/// the columns it needs (the key) are ever read, with ``TupleLayout/column(_:in:)``.
/// ``PgOutputMessage`` is the same message with its rows copied out into plain values.
public enum InPlaceMessage: Hashable, Sendable {
    case begin(Begin)
    case commit(Commit)
    case origin(Origin)
    case relation(Relation)
    case type(TypeInfo)
    case insert(relationOID: UInt32, new: TupleLayout)
    /// `old` is present when the key changed (`K`) or under replica identity FULL (`O`).
    case update(relationOID: UInt32, oldKind: OldTupleKind?, old: TupleLayout?, new: TupleLayout)
    case delete(relationOID: UInt32, oldKind: OldTupleKind, old: TupleLayout)
    case truncate(Truncate)
    case message(LogicalMessage)
    case streamStart(StreamStart)
    case streamStop
    case streamCommit(StreamCommit)
    case streamAbort(StreamAbort)
}

/// Where one validated row image lies in its message's bytes.
///
/// The decoder checked every column's kind and length, so reading the image from the same
/// bytes never fails; given other bytes, reads stop at the end and yield NULL, never trap.
public struct TupleLayout: Hashable, Sendable {
    public let columnCount: Int
    /// Offset of the first column's kind byte.
    let start: Int
    /// Offset just past the last column.
    let end: Int

    /// Column `position` of the row image in `bytes` (the message it was decoded from).
    ///
    /// Walks the columns before it (a byte and, for values, a length each): key columns come
    /// first in most tables, so this is usually immediate.
    public func column(_ position: Int, in bytes: UnsafeRawBufferPointer) -> RawColumn {
        guard let (kind, value, _) = locate(position, in: bytes) else { return .null }
        return Self.column(kind: kind, value: value)
    }

    /// Column `position` of the row image in `bytes`, as a value sharing the array's storage.
    public func column(_ position: Int, in bytes: [UInt8]) -> TupleColumn {
        let found: (kind: UInt8, range: Range<Int>)? = bytes.withUnsafeBytes { buffer in
            locate(position, in: buffer).map { kind, value, end in (kind, (end - value.count)..<end) }
        }
        switch found?.kind {
        case UInt8(ascii: "t"): return .text(bytes[found!.range])
        case UInt8(ascii: "b"): return .binary(bytes[found!.range])
        case UInt8(ascii: "u"): return .unchangedToast
        default: return .null
        }
    }

    /// The kind byte, value bytes and end offset of column `position`, or nil when there is none.
    private func locate(_ position: Int, in bytes: UnsafeRawBufferPointer) -> (UInt8, UnsafeRawBufferPointer, Int)? {
        guard position >= 0, position < columnCount else { return nil }
        var offset = start
        var index = 0
        while let (kind, value, next) = step(at: offset, in: bytes) {
            if index == position { return (kind, value, next) }
            offset = next
            index += 1
        }
        return nil
    }

    /// Calls `body` with every column in order, in one pass over the image: reading a whole
    /// row this way is linear, where one ``column(_:in:)`` per column would be quadratic.
    /// Columns the bytes do not hold (other bytes than the image's own) read as NULL.
    public func forEachColumn(in bytes: UnsafeRawBufferPointer, _ body: (Int, RawColumn) -> Void) {
        var offset = start
        var index = 0
        while index < columnCount, let (kind, value, next) = step(at: offset, in: bytes) {
            body(index, Self.column(kind: kind, value: value))
            offset = next
            index += 1
        }
        while index < columnCount {
            body(index, .null)
            index += 1
        }
    }

    /// Every column, copied out of `bytes`.
    public func columns(in bytes: [UInt8]) -> TupleData {
        TupleData(columns: (0..<columnCount).map { column($0, in: bytes) })
    }

    /// The kind byte of one column, its value's bytes, and the offset of the next column.
    private func step(at offset: Int, in bytes: UnsafeRawBufferPointer) -> (UInt8, UnsafeRawBufferPointer, Int)? {
        guard offset < end, offset < bytes.count else { return nil }
        let kind = bytes[offset]
        var next = offset + 1
        var length = 0
        if kind == UInt8(ascii: "t") || kind == UInt8(ascii: "b") {
            guard next + 4 <= bytes.count else { return nil }
            length = Int(bytes.bigEndian(UInt32.self, at: next))
            next += 4
            guard length <= bytes.count - next else { return nil }
        }
        let value = UnsafeRawBufferPointer(rebasing: bytes[next..<(next + length)])
        return (kind, value, next + length)
    }

    private static func column(kind: UInt8, value: UnsafeRawBufferPointer) -> RawColumn {
        switch kind {
        case UInt8(ascii: "t"), UInt8(ascii: "b"): .value(value)
        case UInt8(ascii: "u"): .unchangedToast
        default: .null
        }
    }
}

/// One column of a row image read in place: its value's bytes stay in the message buffer
/// and are valid only while that buffer is.
public enum RawColumn {
    case null
    /// `u`: an unchanged out-of-line (TOASTed) value whose content was not sent.
    case unchangedToast
    /// A text (`t`) or binary (`b`) value.
    case value(UnsafeRawBufferPointer)
}

extension PgOutputMessage {
    /// The plain-value form of an in-place message decoded from `bytes`.
    public init(_ message: InPlaceMessage, in bytes: [UInt8]) {
        switch message {
        case .begin(let begin): self = .begin(begin)
        case .commit(let commit): self = .commit(commit)
        case .origin(let origin): self = .origin(origin)
        case .relation(let relation): self = .relation(relation)
        case .type(let type): self = .type(type)
        case .insert(let oid, let new): self = .insert(Insert(relationOID: oid, new: new.columns(in: bytes)))
        case .update(let oid, let kind, let old, let new):
            self = .update(
                Update(relationOID: oid, oldKind: kind, old: old?.columns(in: bytes), new: new.columns(in: bytes))
            )
        case .delete(let oid, let kind, let old):
            self = .delete(Delete(relationOID: oid, oldKind: kind, old: old.columns(in: bytes)))
        case .truncate(let truncate): self = .truncate(truncate)
        case .message(var message):
            // The content is the message's last field: share the input's storage, as row values do.
            if message.content.count <= bytes.count {
                message.content = bytes[(bytes.count - message.content.count)...]
            }
            self = .message(message)
        case .streamStart(let start): self = .streamStart(start)
        case .streamStop: self = .streamStop
        case .streamCommit(let commit): self = .streamCommit(commit)
        case .streamAbort(let abort): self = .streamAbort(abort)
        }
    }
}
