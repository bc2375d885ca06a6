import PgOutput

/// Encodes ``PgOutputMessage`` values back into pgoutput bytes (protocol 1, and protocol 2's
/// streamed transactions), for round trips only: the service itself never writes pgoutput.
public enum PgOutputTestEncoder {
    public static func encode(_ message: PgOutputMessage) -> [UInt8] {
        switch message {
        case .begin(let begin):
            ByteWriter("B").uint64(begin.finalLSN.rawValue).int64(begin.commitTime).uint32(begin.xid).bytes
        case .commit(let commit):
            ByteWriter("C").uint8(commit.flags).uint64(commit.commitLSN.rawValue).uint64(commit.endLSN.rawValue)
                .int64(commit.commitTime).bytes
        case .origin(let origin):
            ByteWriter("O").uint64(origin.commitLSN.rawValue).cString(origin.name).bytes
        case .relation(let relation):
            encode(relation)
        case .type(let type):
            ByteWriter("Y").uint32(type.oid).cString(type.namespace).cString(type.name).bytes
        case .insert(let insert):
            encode(insert.new, into: ByteWriter("I").uint32(insert.relationOID).byte("N")).bytes
        case .update(let update):
            encode(update)
        case .delete(let delete):
            encode(delete.old, into: ByteWriter("D").uint32(delete.relationOID).byte(marker(delete.oldKind))).bytes
        case .truncate(let truncate):
            truncate.relationOIDs.reduce(
                ByteWriter("T").int32(Int32(truncate.relationOIDs.count)).uint8(truncate.options)
            ) { $0.uint32($1) }.bytes
        case .message(let message):
            ByteWriter("M").uint8(message.transactional ? 1 : 0).uint64(message.lsn.rawValue)
                .cString(message.prefix).int32(Int32(message.content.count)).raw(message.content).bytes
        case .streamStart(let start):
            ByteWriter("S").uint32(start.xid).uint8(start.isFirstSegment ? 1 : 0).bytes
        case .streamStop:
            ByteWriter("E").bytes
        case .streamCommit(let stream):
            ByteWriter("c").uint32(stream.xid).uint8(stream.commit.flags).uint64(stream.commit.commitLSN.rawValue)
                .uint64(stream.commit.endLSN.rawValue).int64(stream.commit.commitTime).bytes
        case .streamAbort(let abort):
            encode(abort)
        }
    }

    /// The message as it appears inside a streamed block: with `xid` after the type byte for
    /// the types that carry one there.
    public static func encodeStreamed(xid: UInt32, _ message: PgOutputMessage) -> [UInt8] {
        let bytes = encode(message)
        guard let type = bytes.first, PgOutputDecoder.carriesStreamedXID(type) else { return bytes }
        return [type] + ByteWriter().uint32(xid).bytes + bytes.dropFirst()
    }

    private static func encode(_ abort: StreamAbort) -> [UInt8] {
        let writer = ByteWriter("A").uint32(abort.xid).uint32(abort.subxid)
        guard let lsn = abort.abortLSN, let time = abort.abortTime else { return writer.bytes }
        return writer.uint64(lsn.rawValue).int64(time).bytes
    }

    private static func encode(_ relation: Relation) -> [UInt8] {
        let header = ByteWriter("R").uint32(relation.oid).cString(relation.namespace).cString(relation.name)
            .uint8(relation.replicaIdentity.rawValue).int16(Int16(relation.columns.count))
        return relation.columns.reduce(header) { writer, column in
            writer.uint8(column.flags).cString(column.name).uint32(column.typeOID).int32(column.typeModifier)
        }.bytes
    }

    private static func encode(_ update: Update) -> [UInt8] {
        var writer = ByteWriter("U").uint32(update.relationOID)
        if let kind = update.oldKind, let old = update.old {
            writer = encode(old, into: writer.byte(marker(kind)))
        }
        return encode(update.new, into: writer.byte("N")).bytes
    }

    private static func encode(_ tuple: TupleData, into writer: ByteWriter) -> ByteWriter {
        tuple.columns.reduce(writer.int16(Int16(tuple.columns.count))) { writer, column in
            switch column {
            case .null: writer.byte("n")
            case .unchangedToast: writer.byte("u")
            case .text(let value): writer.valueColumn("t", value)
            case .binary(let value): writer.valueColumn("b", value)
            }
        }
    }

    private static func marker(_ kind: OldTupleKind) -> Unicode.Scalar {
        switch kind {
        case .key: "K"
        case .full: "O"
        }
    }
}
