import PgOutput
import WAL
import Windowing

/// A table's shape (its Relation message) from the first change under it: what the sink keeps
/// in `daybook.table_shapes` whenever a table's shape differs from the last one kept, so that
/// the digest can say what changed (``SchemaChange``) and when.
///
/// "When" is the first change after the DDL, not the DDL: pgoutput sends a Relation message
/// before a table's first change on a connection and again after its definition changed.
public struct TableShape: Sendable, Equatable {
    public var relation: Relation
    /// Commit LSN of the transaction holding the first change under this shape.
    public var lsn: LSN
    /// Its commit time.
    public var commitTime: Timestamp?

    public init(relation: Relation, lsn: LSN, commitTime: Timestamp?) {
        self.relation = relation
        self.lsn = lsn
        self.commitTime = commitTime
    }
}

extension TableShape {
    /// A column as `daybook.table_shapes.columns` keeps it.
    package struct StoredColumn: Codable, Equatable, Sendable {
        var name: String
        var type: UInt32
        var typmod: Int32
        var key: Bool
    }

    /// One row of `daybook.table_shapes`, as the checkpoint's payload carries it.
    private struct Record: Encodable {
        var relid: UInt32
        var lsn: String
        var commitMicros: Int64?
        var schemaName: String
        var tableName: String
        var replicaIdentity: String
        var columns: [StoredColumn]
    }

    /// The payload of ``Checkpoint/tableShapes`` for the sink's set-based insert.
    package static func payload(_ shapes: [TableShape]) -> String {
        DaybookJSON.text(
            shapes.map { shape in
                Record(
                    relid: shape.relation.oid,
                    lsn: shape.lsn.description,
                    commitMicros: shape.commitTime?.microsecondsSinceEpoch,
                    schemaName: shape.relation.namespace,
                    tableName: shape.relation.name,
                    replicaIdentity: String(UnicodeScalar(shape.relation.replicaIdentity.rawValue)),
                    columns: shape.relation.columns.map {
                        StoredColumn(name: $0.name, type: $0.typeOID, typmod: $0.typeModifier, key: $0.isKey)
                    }
                )
            }
        )
    }

    /// A shape the sink kept, as the Relation message that described it; nil for a row that
    /// is not one (it is then treated as never seen, and kept again).
    package static func relation(
        oid: UInt32,
        schemaName: String,
        tableName: String,
        replicaIdentity: String,
        columns: String
    ) -> Relation? {
        guard let identity = replicaIdentity.unicodeScalars.first.flatMap({ UInt8(exactly: $0.value) }),
            let stored = DaybookJSON.decode([StoredColumn].self, from: columns)
        else { return nil }
        return Relation(
            oid: oid,
            namespace: schemaName,
            name: tableName,
            replicaIdentity: ReplicaIdentity(rawValue: identity),
            columns: stored.map {
                Relation.Column(flags: $0.key ? 1 : 0, name: $0.name, typeOID: $0.type, typeModifier: $0.typmod)
            }
        )
    }
}
