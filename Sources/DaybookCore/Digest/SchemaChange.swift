import PgOutput

/// What changed in a table's shape between two Relation messages of the same table: the
/// digest's schema changes.
///
/// pgoutput sends a table's Relation message before its first change on a connection and
/// again after its definition changed, so a change of shape is seen at the first change under
/// the new shape, not at the DDL. The message carries no column numbers, so a rename is told
/// apart from a drop and an add by position: a column that keeps its position and its type
/// under a new name, while every other column keeps its position and name, is `renamed`. A
/// drop of the last column and an add of one of the same type between two changes of the table
/// reads the same way; anything else that removes one name and brings another is a drop and
/// an add.
public enum SchemaChange: Hashable, Sendable {
    /// The table's first Relation message on this slot.
    case tableSeen(columns: [Relation.Column])
    /// The table (same OID) has another schema or name.
    case tableRenamed(from: String, to: String)
    case columnAdded(Relation.Column)
    case columnDropped(Relation.Column)
    case columnRenamed(from: String, to: String)
    /// Another type, or the same type with another modifier (`varchar(20)` to `varchar(40)`).
    case columnRetyped(name: String, from: ColumnType, to: ColumnType)
    /// `REPLICA IDENTITY` changed (what old values updates and deletes carry).
    case identityChanged(from: ReplicaIdentity, to: ReplicaIdentity)
    /// The replica identity's columns changed (a new primary key, or another index).
    case keyChanged(from: [String], to: [String])

    /// A column's type as pgoutput names it: the type's OID and modifier.
    public struct ColumnType: Hashable, Sendable {
        public var oid: UInt32
        public var modifier: Int32

        public init(oid: UInt32, modifier: Int32) {
            self.oid = oid
            self.modifier = modifier
        }
    }

    /// The changes from `old` to `new` (nil `old`: the table is seen for the first time), in
    /// the order a reader wants them: the table, its identity, then its columns in the new
    /// order, dropped ones last.
    public static func changes(from old: Relation?, to new: Relation) -> [SchemaChange] {
        guard let old else { return [.tableSeen(columns: new.columns)] }
        var changes: [SchemaChange] = []
        if old.qualifiedName != new.qualifiedName {
            changes.append(.tableRenamed(from: old.qualifiedName, to: new.qualifiedName))
        }
        if old.replicaIdentity != new.replicaIdentity {
            changes.append(.identityChanged(from: old.replicaIdentity, to: new.replicaIdentity))
        }
        let oldKey = old.columns.filter(\.isKey).map(\.name)
        let newKey = new.columns.filter(\.isKey).map(\.name)
        let renames = renamedColumns(old.columns, new.columns)
        let renamedTo = Dictionary(uniqueKeysWithValues: renames.map { ($0.to, $0.from) })
        // Under REPLICA IDENTITY FULL every column is flagged as part of the identity: a change
        // to or from FULL says it all, and the flags that follow from it are no key change.
        let identityFull =
            old.replicaIdentity != new.replicaIdentity && (old.replicaIdentity == .full || new.replicaIdentity == .full)
        if !identityFull, oldKey.map({ name in renames.first { $0.from == name }?.to ?? name }) != newKey {
            changes.append(.keyChanged(from: oldKey, to: newKey))
        }
        let oldByName = Dictionary(old.columns.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let newNames = Set(new.columns.map(\.name))
        for column in new.columns {
            let before = oldByName[renamedTo[column.name] ?? column.name]
            if let from = renamedTo[column.name] { changes.append(.columnRenamed(from: from, to: column.name)) }
            guard let before else {
                changes.append(.columnAdded(column))
                continue
            }
            if before.typeOID != column.typeOID || before.typeModifier != column.typeModifier {
                changes.append(
                    .columnRetyped(
                        name: column.name,
                        from: ColumnType(oid: before.typeOID, modifier: before.typeModifier),
                        to: ColumnType(oid: column.typeOID, modifier: column.typeModifier)
                    )
                )
            }
        }
        let renamedFrom = Set(renames.map(\.from))
        for column in old.columns where !newNames.contains(column.name) && !renamedFrom.contains(column.name) {
            changes.append(.columnDropped(column))
        }
        return changes
    }

    /// Columns at the same position with the same type whose name changed, when every other
    /// column keeps its position and name (see the type's documentation).
    private static func renamedColumns(
        _ old: [Relation.Column],
        _ new: [Relation.Column]
    ) -> [(from: String, to: String)] {
        guard old.count == new.count else { return [] }
        let oldNames = Set(old.map(\.name))
        let newNames = Set(new.map(\.name))
        var renames: [(from: String, to: String)] = []
        for (before, after) in zip(old, new) where before.name != after.name {
            guard !newNames.contains(before.name), !oldNames.contains(after.name),
                before.typeOID == after.typeOID, before.typeModifier == after.typeModifier
            else { return [] }
            renames.append((before.name, after.name))
        }
        return renames
    }
}
