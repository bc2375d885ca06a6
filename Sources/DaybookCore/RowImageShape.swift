import PgOutput

/// Builds the JSON image of a row of a `values` table: `{"column": "text value", …}` of the
/// captured columns in the table's column order, values in PostgreSQL's text form, NULL as
/// JSON null.
///
/// Which columns are captured is the table's capture rule: all of them, or only `columns`,
/// never `excludedColumns`; the key columns always (a row without its key means nothing).
/// An excluded column is skipped here, before anything is stored, so its value never
/// reaches the sink; a hashed one is replaced here by its keyed hash (``ValueKey``), a masked
/// one by its tag (``MaskedValue``).
struct RowImageShape: Sendable {
    /// For each column of the Relation: its `"name":` prefix, or nil when it is not captured.
    private let prefixes: [[UInt8]?]
    /// What is stored for a column's values.
    private enum Treatment: Sendable {
        case value, hash, mask
    }

    private let treatments: [Treatment]
    /// The rule's hash key, when it hashes any column.
    private let key: ValueKey?
    /// The captured columns' names as a JSON-escaped UTF-8 string literal each, for the list
    /// of unknown (unchanged TOASTed) columns.
    private let quotedNames: [[UInt8]?]

    /// - Parameter key: the rule's hash key, needed when it hashes a column.
    init(relation: Relation, keyPositions: [Int], rule: CaptureRule, key: ValueKey? = nil) {
        let keys = Set(keyPositions)
        let only = rule.columns.map(Set.init)
        let excluded = Set(rule.excludedColumns)
        let hashedNames = Set(rule.hashedColumns)
        let maskedNames = Set(rule.maskedColumns)
        var prefixes: [[UInt8]?] = []
        var quotedNames: [[UInt8]?] = []
        var treatments: [Treatment] = []
        for (position, column) in relation.columns.enumerated() {
            // A key column may be hashed (the key is filed under the same hash), never masked:
            // every event is filed under its key.
            let isKey = keys.contains(position)
            treatments.append(
                key == nil
                    ? .value
                    : !isKey && maskedNames.contains(column.name)
                        ? .mask : hashedNames.contains(column.name) ? .hash : .value
            )
            let captured =
                keys.contains(position) || (!excluded.contains(column.name) && (only?.contains(column.name) ?? true))
            guard captured else {
                prefixes.append(nil)
                quotedNames.append(nil)
                continue
            }
            var quoted: [UInt8] = []
            var name = column.name
            name.withUTF8 { JSONBytes.appendString(UnsafeRawBufferPointer($0), to: &quoted) }
            prefixes.append(quoted + [UInt8(ascii: ":")])
            quotedNames.append(quoted)
        }
        self.prefixes = prefixes
        self.quotedNames = quotedNames
        self.treatments = treatments
        self.key = key
    }

    /// Writes the image of `row` into `output` and the names of the columns whose value is
    /// unknown into `unknown` (a JSON array, left empty when every value is known), replacing
    /// both contents.
    ///
    /// An unchanged TOASTed value (the stream sends none) is taken from `fallback`, the old
    /// row, when that holds it; otherwise the column is left out of the image and named in
    /// `unknown`, never shown as an empty or wrong value.
    func image<Row: RowImage>(of row: Row, fallback: Row?, into output: inout [UInt8], unknown: inout [UInt8]) {
        output.removeAll(keepingCapacity: true)
        unknown.removeAll(keepingCapacity: true)
        var wroteAny = false
        row.forEachColumn { position, column in
            guard position < prefixes.count, let prefix = prefixes[position] else { return }
            if case .unchangedToast = column {
                var known = false
                fallback?.withColumn(position) { old in
                    if case .value = old {
                        appendField(position, prefix, old, first: !wroteAny, to: &output)
                        known = true
                        wroteAny = true
                    }
                }
                if !known {
                    unknown.append(unknown.isEmpty ? UInt8(ascii: "[") : UInt8(ascii: ","))
                    unknown.append(contentsOf: quotedNames[position]!)
                }
                return
            }
            appendField(position, prefix, column, first: !wroteAny, to: &output)
            wroteAny = true
        }
        if !wroteAny { output.append(UInt8(ascii: "{")) }
        output.append(UInt8(ascii: "}"))
        if !unknown.isEmpty { unknown.append(UInt8(ascii: "]")) }
    }

    /// Appends `"name":value`, with `{` before the first field and `,` before the others
    /// (a column left out shifts which field comes first); a hashed column's value as its hash,
    /// a masked one's as its tag (NULL stays null: it is no value to hide).
    private func appendField(
        _ position: Int,
        _ prefix: [UInt8],
        _ column: RawColumn,
        first: Bool,
        to output: inout [UInt8]
    ) {
        output.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
        output.append(contentsOf: prefix)
        switch column {
        case .null, .unchangedToast:
            output.append(contentsOf: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")])
        case .value(let bytes):
            switch (treatments[position], key) {
            case (.hash, let key?):
                var hash = key.hash(bytes)
                hash.withUTF8 { JSONBytes.appendString(UnsafeRawBufferPointer($0), to: &output) }
            case (.mask, let key?):
                var tag = key.maskTag(bytes)
                tag.withUTF8 { JSONBytes.appendString(UnsafeRawBufferPointer($0), to: &output) }
            default:
                JSONBytes.appendString(bytes, to: &output)
            }
        }
    }
}
