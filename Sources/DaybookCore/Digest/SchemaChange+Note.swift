import PgOutput

extension Digest.SchemaChangeNote {
    /// The digest's note of one ``SchemaChange``, with types named by `typeName` (the sink
    /// names built-in types as `format_type` does; pgoutput sends only OIDs).
    public init(
        _ change: SchemaChange,
        table: String,
        lsn: String,
        commitTime: String?,
        typeName: (SchemaChange.ColumnType) -> String
    ) {
        func type(_ column: Relation.Column) -> String {
            typeName(SchemaChange.ColumnType(oid: column.typeOID, modifier: column.typeModifier))
        }
        func note(_ kind: String, column: String? = nil, from: String? = nil, to: String? = nil) -> Self {
            Self(table: table, lsn: lsn, commitTime: commitTime, change: kind, column: column, from: from, to: to)
        }
        switch change {
        case .tableSeen(let columns):
            self = note("table_seen", to: columns.map { "\($0.name) \(type($0))" }.joined(separator: ", "))
        case .tableRenamed(let from, let to):
            self = note("table_renamed", from: from, to: to)
        case .columnAdded(let column):
            self = note("column_added", column: column.name, to: type(column))
        case .columnDropped(let column):
            self = note("column_dropped", column: column.name, from: type(column))
        case .columnRenamed(let from, let to):
            self = note("column_renamed", column: to, from: from, to: to)
        case .columnRetyped(let name, let from, let to):
            self = note("column_retyped", column: name, from: typeName(from), to: typeName(to))
        case .identityChanged(let from, let to):
            self = note("identity_changed", from: from.description, to: to.description)
        case .keyChanged(let from, let to):
            self = note(
                "key_changed",
                from: "(" + from.joined(separator: ", ") + ")",
                to: "(" + to.joined(separator: ", ") + ")"
            )
        }
    }

    /// The note in a few words, for text, Markdown, HTML and chat.
    public var sentence: String {
        switch change {
        case "table_seen": "first seen, with columns \(to ?? "")"
        case "table_renamed": "renamed from \(from ?? "?") to \(to ?? "?")"
        case "column_added": "column \(column ?? "?") added (\(to ?? "?"))"
        case "column_dropped": "column \(column ?? "?") dropped (was \(from ?? "?"))"
        case "column_renamed": "column \(from ?? "?") renamed to \(to ?? "?")"
        case "column_retyped": "column \(column ?? "?") retyped from \(from ?? "?") to \(to ?? "?")"
        case "identity_changed": "replica identity changed from \(from ?? "?") to \(to ?? "?")"
        case "key_changed": "key changed from \(from ?? "?") to \(to ?? "?")"
        default: change
        }
    }
}
