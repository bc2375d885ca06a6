import PgOutput

/// Builds a row's key, the canonical JSON object `{"column": "text value", …}` of its key
/// columns in column order.
///
/// The key columns are the table's replica identity columns: the primary key under
/// `DEFAULT`, the index's columns under `USING INDEX`. Under `FULL` every column is flagged,
/// so the primary key is used when the table has one, else the whole row. Values are
/// PostgreSQL's text form; NULL is JSON null.
struct KeyShape: Hashable, Sendable {
    /// Positions of the key columns in the Relation's column list.
    let positions: [Int]
    /// The key columns' names, already JSON-quoted.
    let quotedNames: [String]

    /// A shape from the relation's replica identity flags; under `FULL`, from `primaryKey`
    /// when given and present. Under `REPLICA IDENTITY NOTHING` a table has no key: it is
    /// counted per table only.
    init(relation: Relation, primaryKey: [String]?) {
        var positions: [Int] = []
        if relation.replicaIdentity == .full, let primaryKey, !primaryKey.isEmpty {
            positions = primaryKey.compactMap { name in relation.columns.firstIndex { $0.name == name } }
            if positions.count != primaryKey.count { positions = [] }
        }
        if positions.isEmpty {
            positions = relation.columns.indices.filter { relation.columns[$0].isKey }
        }
        if relation.replicaIdentity == .nothing { positions = [] }
        self.positions = positions
        self.quotedNames = positions.map { JSONText.string(relation.columns[$0].name) }
    }

    /// Whether this table has any key at all (else it is counted per table only).
    var isEmpty: Bool { positions.isEmpty }

    /// The key of a row image, filling unchanged-TOAST values from `fallback` (the old row).
    ///
    /// - Returns: nil when a key column's value is unknown (an unchanged TOASTed key value
    ///   with no old row to take it from), or when the table has no key.
    func key(of tuple: TupleData, fallback: TupleData? = nil) -> String? {
        guard !positions.isEmpty else { return nil }
        var output = "{"
        for (index, position) in positions.enumerated() {
            if index > 0 { output.append(",") }
            output.append(quotedNames[index])
            output.append(":")
            var column = position < tuple.columns.count ? tuple.columns[position] : .null
            if case .unchangedToast = column, let fallback, position < fallback.columns.count {
                column = fallback.columns[position]
            }
            switch column {
            case .null:
                output.append("null")
            case .text(let bytes), .binary(let bytes):
                JSONText.appendString(String(decoding: bytes, as: UTF8.self), to: &output)
            case .unchangedToast:
                return nil
            }
        }
        output.append("}")
        return output
    }
}
