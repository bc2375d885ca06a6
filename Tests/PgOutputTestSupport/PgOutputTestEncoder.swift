import PgOutput

/// Encodes ``PgOutputMessage`` values back into pgoutput protocol version 1 bytes, for round
/// trips only: the service itself never writes pgoutput.
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
        }
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
