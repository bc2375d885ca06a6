import PgOutput

extension TupleColumn {
    /// A text-format value holding `string`'s UTF-8 bytes.
    static func utf8(_ string: String) -> TupleColumn { .text(ArraySlice(string.utf8)) }
}

extension TupleData {
    /// A row image from column values, e.g. `["1", nil]` for a text value and a NULL.
    static func texts(_ values: String?...) -> TupleData {
        TupleData(columns: values.map { $0.map(TupleColumn.utf8) ?? .null })
    }
}

/// Case accessors, so tests can filter a stream with `compactMap(\.insert)`.
extension PgOutputMessage {
    var begin: Begin? { if case .begin(let value) = self { value } else { nil } }
    var commit: Commit? { if case .commit(let value) = self { value } else { nil } }
    var origin: Origin? { if case .origin(let value) = self { value } else { nil } }
    var relation: Relation? { if case .relation(let value) = self { value } else { nil } }
    var type: TypeInfo? { if case .type(let value) = self { value } else { nil } }
    var insert: Insert? { if case .insert(let value) = self { value } else { nil } }
    var update: Update? { if case .update(let value) = self { value } else { nil } }
    var delete: Delete? { if case .delete(let value) = self { value } else { nil } }
    var truncate: Truncate? { if case .truncate(let value) = self { value } else { nil } }
    var message: LogicalMessage? { if case .message(let value) = self { value } else { nil } }

    /// A short name for the message's kind, with the old-tuple marker for Update and Delete
    /// and the transactional flag for logical messages: `"U/K"`, `"D/O"`, `"M/transactional"`.
    var kind: String {
        switch self {
        case .begin: "B"
        case .commit: "C"
        case .origin: "O"
        case .relation: "R"
        case .type: "Y"
        case .insert: "I"
        case .update(let update): update.oldKind.map { "U/\(Self.marker($0))" } ?? "U"
        case .delete(let delete): "D/\(Self.marker(delete.oldKind))"
        case .truncate: "T"
        case .message(let message): message.transactional ? "M/transactional" : "M/non-transactional"
        case .streamStart: "S"
        case .streamStop: "E"
        case .streamCommit: "c"
        case .streamAbort: "A"
        }
    }

    private static func marker(_ kind: OldTupleKind) -> String {
        switch kind {
        case .key: "K"
        case .full: "O"
        }
    }
}
