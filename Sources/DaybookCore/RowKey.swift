import PgOutput

/// A row image the key builder can read a column of: the plain ``TupleData`` of tests and
/// tools, or an in-place image inside the received message (the service's path).
protocol RowImage {
    /// Calls `body` with column `position`; the bytes it sees are valid only inside `body`.
    func withColumn<Result>(_ position: Int, _ body: (RawColumn) -> Result) -> Result
    /// Calls `body` with every column in order, in one pass.
    func forEachColumn(_ body: (Int, RawColumn) -> Void)
}

extension TupleData: RowImage {
    func withColumn<Result>(_ position: Int, _ body: (RawColumn) -> Result) -> Result {
        guard position < columns.count else { return body(.null) }
        switch columns[position] {
        case .null: return body(.null)
        case .unchangedToast: return body(.unchangedToast)
        case .text(let bytes), .binary(let bytes): return bytes.withUnsafeBytes { body(.value($0)) }
        }
    }

    func forEachColumn(_ body: (Int, RawColumn) -> Void) {
        for position in columns.indices { withColumn(position) { body(position, $0) } }
    }
}

/// A validated row image read in place from the buffer it was decoded from; valid only
/// while that buffer is (one message, inside ``ChangeProcessor/process(_:in:)``).
struct InPlaceRow: RowImage {
    let layout: TupleLayout
    let bytes: UnsafeRawBufferPointer
    func withColumn<Result>(_ position: Int, _ body: (RawColumn) -> Result) -> Result {
        body(layout.column(position, in: bytes))
    }

    func forEachColumn(_ body: (Int, RawColumn) -> Void) {
        layout.forEachColumn(in: bytes, body)
    }
}

/// Builds a row's key, the canonical JSON object `{"column": "text value", …}` of its key
/// columns in the table's column order, as UTF-8 bytes.
///
/// The key columns are the table's replica identity columns: the primary key under
/// `DEFAULT`, the index's columns under `USING INDEX`. Under `FULL` every column is flagged,
/// so the primary key is used when the table has one, else the whole row. Values are
/// PostgreSQL's text form; NULL is JSON null.
struct KeyShape: Hashable, Sendable {
    /// Positions of the key columns in the Relation's column list.
    let positions: [Int]
    /// Each key column's `"name":` prefix (with `{` or `,` before it), as UTF-8.
    let prefixes: [[UInt8]]

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
        // Always in the table's column order: the same key then has one spelling whichever
        // identity produced it (the primary key's own order under FULL, the flags under
        // DEFAULT), so operations of one batch never need ordering across spellings.
        positions.sort()
        self.positions = positions
        self.prefixes = positions.enumerated().map { index, position in
            var prefix: [UInt8] = [index == 0 ? UInt8(ascii: "{") : UInt8(ascii: ",")]
            var name = relation.columns[position].name
            name.withUTF8 { JSONBytes.appendString(UnsafeRawBufferPointer($0), to: &prefix) }
            prefix.append(UInt8(ascii: ":"))
            return prefix
        }
    }

    /// Whether this table has any key at all (else it is counted per table only).
    var isEmpty: Bool { positions.isEmpty }

    /// Writes the key of a row image into `output` (replacing its contents), filling
    /// unchanged-TOAST values from `fallback` (the old row); key columns the rule hashes as
    /// their hashes (``KeyHashing``).
    ///
    /// - Returns: false when a key column's value is unknown (an unchanged TOASTed key value
    ///   with no old row to take it from), or when the table has no key.
    func key<Row: RowImage>(
        of row: Row,
        fallback: Row? = nil,
        into output: inout [UInt8],
        hashing: KeyHashing? = nil
    ) -> Bool {
        output.removeAll(keepingCapacity: true)
        guard !positions.isEmpty else { return false }
        for index in positions.indices {
            output.append(contentsOf: prefixes[index])
            let hash = hashing.flatMap { $0.hashed[index] ? $0.key : nil }
            var known = row.withColumn(positions[index]) { Self.append($0, hashedWith: hash, to: &output) }
            if !known, let fallback {
                known = fallback.withColumn(positions[index]) { Self.append($0, hashedWith: hash, to: &output) }
            }
            if !known { return false }
        }
        output.append(UInt8(ascii: "}"))
        return true
    }

    /// Appends one key value as JSON (its hash under `key` when given); false for an unchanged
    /// TOASTed value (unknown here).
    private static func append(_ column: RawColumn, hashedWith key: ValueKey?, to output: inout [UInt8]) -> Bool {
        switch column {
        case .null:
            output.append(contentsOf: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")])
            return true
        case .value(let bytes):
            if let key {
                var hash = key.hash(bytes)
                hash.withUTF8 { JSONBytes.appendString(UnsafeRawBufferPointer($0), to: &output) }
            } else {
                JSONBytes.appendString(bytes, to: &output)
            }
            return true
        case .unchangedToast:
            return false
        }
    }
}
