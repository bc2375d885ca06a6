import WAL

/// Decodes pgoutput messages (protocol versions 1 and 2) from bytes. Pure: no I/O, no state.
///
/// Protocol 2 adds streamed transactions: Stream Start/Stop/Commit/Abort, and inside a
/// streamed block (between Stream Start and Stream Stop) an xid in front of every change,
/// Relation, Type and Message. Whether a message lies inside such a block is the caller's
/// knowledge, not the bytes': decode those with ``decodeStreamedInPlace(_:)``.
///
/// Every field is bounds-checked; any malformed input ends in a ``PgOutputDecodingError``
/// that names the message type, the field and the byte offset, and never in a trap.
///
/// There is one decoder with two results: ``decodeInPlace(_:)`` validates a message and
/// leaves its row images where they are (the service's path: no allocation per row change),
/// and ``decode(_:)`` copies them out into plain values (tests, tools, the fuzzer's checks).
public enum PgOutputDecoder {
    /// Decodes one message (the payload of one XLogData frame) into plain values.
    public static func decode(_ bytes: [UInt8]) throws(PgOutputDecodingError) -> PgOutputMessage {
        PgOutputMessage(try decodeInPlace(bytes), in: bytes)
    }

    /// Decodes one message, validating every row image but leaving its values in `bytes`.
    ///
    /// Read the row images with ``TupleLayout/column(_:in:)`` on the same `bytes`.
    public static func decodeInPlace(_ bytes: [UInt8]) throws(PgOutputDecodingError) -> InPlaceMessage {
        let result: Result<InPlaceMessage, PgOutputDecodingError> = bytes.withUnsafeBytes { buffer in
            Result { () throws(PgOutputDecodingError) in try decodeInPlace(buffer) }
        }
        return try result.get()
    }

    /// Decodes one message straight from a buffer the caller owns (libpq's, in the service),
    /// so that even a row of hundreds of megabytes is never copied. The result holds no
    /// pointer into `bytes`; read its row images from the same bytes while they live.
    public static func decodeInPlace(_ bytes: UnsafeRawBufferPointer) throws(PgOutputDecodingError) -> InPlaceMessage {
        try decode(bytes, streamed: false).message
    }

    /// Decodes one message that arrived inside a streamed block (between Stream Start and
    /// Stream Stop), where Relation, Type, Insert, Update, Delete, Truncate and Message carry
    /// the xid of the (sub)transaction they belong to in front of their fields.
    ///
    /// - Returns: that xid (nil for the message types without one, such as Stream Stop or
    ///   Origin) and the message, whose row images lie in `bytes` as usual.
    public static func decodeStreamedInPlace(
        _ bytes: UnsafeRawBufferPointer
    ) throws(PgOutputDecodingError) -> (xid: UInt32?, message: InPlaceMessage) {
        try decode(bytes, streamed: true)
    }

    /// ``decodeStreamedInPlace(_:)`` for an array: tests, tools and the fuzzer.
    public static func decodeStreamed(
        _ bytes: [UInt8]
    ) throws(PgOutputDecodingError) -> (xid: UInt32?, message: PgOutputMessage) {
        let result: Result<(xid: UInt32?, message: InPlaceMessage), PgOutputDecodingError> = bytes.withUnsafeBytes {
            buffer in
            Result { () throws(PgOutputDecodingError) in try decodeStreamedInPlace(buffer) }
        }
        let decoded = try result.get()
        return (decoded.xid, PgOutputMessage(decoded.message, in: bytes))
    }

    /// The message types that carry an xid inside a streamed block (protocol 2 and later).
    public static func carriesStreamedXID(_ type: UInt8) -> Bool {
        switch type {
        case UInt8(ascii: "R"), UInt8(ascii: "Y"), UInt8(ascii: "I"), UInt8(ascii: "U"), UInt8(ascii: "D"),
            UInt8(ascii: "T"), UInt8(ascii: "M"):
            true
        default:
            false
        }
    }

    private static func decode(
        _ bytes: UnsafeRawBufferPointer,
        streamed: Bool
    ) throws(PgOutputDecodingError) -> (xid: UInt32?, message: InPlaceMessage) {
        guard let type = bytes.first else {
            throw PgOutputDecodingError(.empty, field: "type", offset: 0)
        }
        var reader = ByteReader(bytes, offset: 1)
        do throws(PgOutputDecodingError) {
            let xid = streamed && carriesStreamedXID(type) ? try reader.readUInt32("xid") : nil
            let message = try decodeBody(type: type, reader: &reader)
            guard reader.isAtEnd else {
                throw PgOutputDecodingError(.trailingBytes, field: "end", offset: reader.offset)
            }
            return (xid, message)
        } catch var error {
            error.messageType = type
            throw error
        }
    }

    private static func decodeBody(
        type: UInt8,
        reader: inout ByteReader
    ) throws(PgOutputDecodingError) -> InPlaceMessage {
        switch type {
        case UInt8(ascii: "B"):
            return .begin(
                Begin(
                    finalLSN: LSN(try reader.readUInt64("final_lsn")),
                    commitTime: try reader.readInt64("commit_time"),
                    xid: try reader.readUInt32("xid")
                )
            )
        case UInt8(ascii: "C"):
            return .commit(
                Commit(
                    flags: try reader.readUInt8("flags"),
                    commitLSN: LSN(try reader.readUInt64("commit_lsn")),
                    endLSN: LSN(try reader.readUInt64("end_lsn")),
                    commitTime: try reader.readInt64("commit_time")
                )
            )
        case UInt8(ascii: "O"):
            return .origin(
                Origin(commitLSN: LSN(try reader.readUInt64("origin_lsn")), name: try reader.readCString("origin_name"))
            )
        case UInt8(ascii: "R"):
            return .relation(try decodeRelation(&reader))
        case UInt8(ascii: "Y"):
            return .type(
                TypeInfo(
                    oid: try reader.readUInt32("type_oid"),
                    namespace: try reader.readCString("type_namespace"),
                    name: try reader.readCString("type_name")
                )
            )
        case UInt8(ascii: "I"):
            let oid = try reader.readUInt32("relation_oid")
            try expectMarker(UInt8(ascii: "N"), &reader)
            return .insert(relationOID: oid, new: try decodeTuple(&reader))
        case UInt8(ascii: "U"):
            return try decodeUpdate(&reader)
        case UInt8(ascii: "D"):
            let oid = try reader.readUInt32("relation_oid")
            let kind = try decodeOldKind(&reader)
            return .delete(relationOID: oid, oldKind: kind, old: try decodeTuple(&reader))
        case UInt8(ascii: "T"):
            return .truncate(try decodeTruncate(&reader))
        case UInt8(ascii: "M"):
            let flags = try reader.readUInt8("flags")
            let lsn = LSN(try reader.readUInt64("message_lsn"))
            let prefix = try reader.readCString("prefix")
            let length = try reader.readInt32("content_length")
            guard length >= 0 else {
                throw PgOutputDecodingError(.invalidLength, field: "content_length", offset: reader.offset - 4)
            }
            let content = try reader.readBytes(Int(length), "content")
            return .message(
                LogicalMessage(transactional: flags & 1 != 0, lsn: lsn, prefix: prefix, content: content[...])
            )
        case UInt8(ascii: "S"):
            return .streamStart(
                StreamStart(
                    xid: try reader.readUInt32("xid"),
                    isFirstSegment: try reader.readUInt8("first_segment") == 1
                )
            )
        case UInt8(ascii: "E"):
            return .streamStop
        case UInt8(ascii: "c"):
            return .streamCommit(
                StreamCommit(
                    xid: try reader.readUInt32("xid"),
                    commit: Commit(
                        flags: try reader.readUInt8("flags"),
                        commitLSN: LSN(try reader.readUInt64("commit_lsn")),
                        endLSN: LSN(try reader.readUInt64("end_lsn")),
                        commitTime: try reader.readInt64("commit_time")
                    )
                )
            )
        case UInt8(ascii: "A"):
            let xid = try reader.readUInt32("xid")
            let subxid = try reader.readUInt32("subxid")
            // Protocol 4 with parallel streaming appends where and when the abort happened.
            var abort = StreamAbort(xid: xid, subxid: subxid)
            if !reader.isAtEnd {
                abort.abortLSN = LSN(try reader.readUInt64("abort_lsn"))
                abort.abortTime = try reader.readInt64("abort_time")
            }
            return .streamAbort(abort)
        default:
            throw PgOutputDecodingError(.unknownMessageType, field: "type", offset: 0)
        }
    }

    private static func decodeRelation(_ reader: inout ByteReader) throws(PgOutputDecodingError) -> Relation {
        let oid = try reader.readUInt32("relation_oid")
        let namespace = try reader.readCString("namespace")
        let name = try reader.readCString("relation_name")
        let identity = ReplicaIdentity(rawValue: try reader.readUInt8("replica_identity"))
        let count = try readCount(&reader, field: "column_count", minimumBytesEach: 10)
        var columns: [Relation.Column] = []
        columns.reserveCapacity(count)
        for _ in 0..<count {
            columns.append(
                Relation.Column(
                    flags: try reader.readUInt8("column_flags"),
                    name: try reader.readCString("column_name"),
                    typeOID: try reader.readUInt32("column_type_oid"),
                    typeModifier: try reader.readInt32("column_type_modifier")
                )
            )
        }
        return Relation(oid: oid, namespace: namespace, name: name, replicaIdentity: identity, columns: columns)
    }

    private static func decodeUpdate(_ reader: inout ByteReader) throws(PgOutputDecodingError) -> InPlaceMessage {
        let oid = try reader.readUInt32("relation_oid")
        let markerOffset = reader.offset
        let marker = try reader.readUInt8("tuple_marker")
        switch marker {
        case UInt8(ascii: "N"):
            return .update(relationOID: oid, oldKind: nil, old: nil, new: try decodeTuple(&reader))
        case UInt8(ascii: "K"), UInt8(ascii: "O"):
            let old = try decodeTuple(&reader)
            try expectMarker(UInt8(ascii: "N"), &reader)
            let kind: OldTupleKind = marker == UInt8(ascii: "K") ? .key : .full
            return .update(relationOID: oid, oldKind: kind, old: old, new: try decodeTuple(&reader))
        default:
            throw PgOutputDecodingError(.unknownTupleMarker, field: "tuple_marker", offset: markerOffset)
        }
    }

    private static func decodeOldKind(_ reader: inout ByteReader) throws(PgOutputDecodingError) -> OldTupleKind {
        let markerOffset = reader.offset
        switch try reader.readUInt8("tuple_marker") {
        case UInt8(ascii: "K"): return .key
        case UInt8(ascii: "O"): return .full
        default: throw PgOutputDecodingError(.unknownTupleMarker, field: "tuple_marker", offset: markerOffset)
        }
    }

    private static func decodeTruncate(_ reader: inout ByteReader) throws(PgOutputDecodingError) -> Truncate {
        let countOffset = reader.offset
        let count = try reader.readInt32("relation_count")
        let options = try reader.readUInt8("options")
        guard count >= 0, Int(count) <= reader.remaining / 4 else {
            throw PgOutputDecodingError(.invalidLength, field: "relation_count", offset: countOffset)
        }
        var oids: [UInt32] = []
        oids.reserveCapacity(Int(count))
        for _ in 0..<count { oids.append(try reader.readUInt32("relation_oid")) }
        return Truncate(options: options, relationOIDs: oids)
    }

    private static func expectMarker(_ expected: UInt8, _ reader: inout ByteReader) throws(PgOutputDecodingError) {
        let markerOffset = reader.offset
        guard try reader.readUInt8("tuple_marker") == expected else {
            throw PgOutputDecodingError(.unknownTupleMarker, field: "tuple_marker", offset: markerOffset)
        }
    }

    /// Reads an Int16 count and rejects counts that the remaining bytes cannot possibly hold,
    /// so a corrupt count never triggers a huge allocation.
    private static func readCount(
        _ reader: inout ByteReader,
        field: StaticString,
        minimumBytesEach: Int
    ) throws(PgOutputDecodingError) -> Int {
        let countOffset = reader.offset
        let count = Int(Int16(bitPattern: try reader.readUInt16(field)))
        guard count >= 0, count <= reader.remaining / minimumBytesEach else {
            throw PgOutputDecodingError(.invalidLength, field: field, offset: countOffset)
        }
        return count
    }

    /// Validates one row image and returns where it is: every column's kind and length is
    /// checked here, once, so reading it later cannot run past the message.
    static func decodeTuple(_ reader: inout ByteReader) throws(PgOutputDecodingError) -> TupleLayout {
        let count = try readCount(&reader, field: "tuple_column_count", minimumBytesEach: 1)
        let start = reader.offset
        for _ in 0..<count {
            let kindOffset = reader.offset
            switch try reader.readUInt8("column_kind") {
            case UInt8(ascii: "n"), UInt8(ascii: "u"):
                break
            case UInt8(ascii: "t"), UInt8(ascii: "b"):
                let lengthOffset = reader.offset
                let length = try reader.readInt32("column_length")
                guard length >= 0 else {
                    throw PgOutputDecodingError(.invalidLength, field: "column_length", offset: lengthOffset)
                }
                try reader.skip(Int(length), "column_value")
            default:
                throw PgOutputDecodingError(.unknownColumnKind, field: "column_kind", offset: kindOffset)
            }
        }
        return TupleLayout(columnCount: count, start: start, end: reader.offset)
    }
}
