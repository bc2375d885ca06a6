import WAL

/// How a column's values are stored under a capture rule: what a stored value can be compared
/// with. A key's image stored under one rule and its next event under another compare only in
/// the columns whose form stayed the same: a plain value kept before a `hash` or `mask` rule,
/// or a hash under a key that has been rotated since, says nothing about whether the column
/// changed, and filling a later event from it would put a value back where the rule forbids it.
public enum StoredForm: Hashable, Sendable {
    /// The value itself.
    case value
    /// ``ValueKey/hash(_:)`` under the key with this id.
    case hash(keyID: String?)
    /// A ``MaskedValue`` tag under the key with this id.
    case mask(keyID: String?)
    /// Not kept (excluded, outside `--columns`, or the table not at `values`).
    case notKept
}

extension CaptureRule {
    /// How this rule stores `column`'s values.
    public func storedForm(of column: String) -> StoredForm {
        guard level == .values, !excludedColumns.contains(column) else { return .notKept }
        if let columns, !columns.contains(column) { return .notKept }
        if hashedColumns.contains(column) { return .hash(keyID: keyID) }
        if maskedColumns.contains(column) { return .mask(keyID: keyID) }
        return .value
    }

    /// The rule of `rules` (one table's, oldest first) that applies to a transaction committed
    /// at `commitLSN`: the latest announced before it (see ``sinceLSN``).
    public static func rule(at commitLSN: LSN, in rules: [CaptureRule]) -> CaptureRule? {
        rules.last { $0.sinceLSN < commitLSN }
    }

    /// The columns of an image stored under `earlier` whose stored form is another under
    /// `later`: to be taken as unknown, never compared or copied, by an event stored under
    /// `later`. Nil rules (none announced yet) store every column as its value.
    public static func columnsChangingForm(
        _ columns: some Sequence<String>,
        from earlier: CaptureRule?,
        to later: CaptureRule?
    ) -> Set<String> {
        guard earlier?.sinceLSN != later?.sinceLSN else { return [] }
        var changing: Set<String> = []
        for column in columns {
            let before = earlier?.storedForm(of: column) ?? .value
            let after = later?.storedForm(of: column) ?? .value
            if before != after { changing.insert(column) }
        }
        return changing
    }
}
