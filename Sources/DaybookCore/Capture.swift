import Windowing

/// How the changes of a table are kept under one capture rule (``CaptureRule``): its level,
/// at `values` the shape of its row images, and when the rule hashes key columns, how.
///
/// An immutable class, not a struct: every change looks its table's capture up, and handing
/// out a reference costs one retain where a struct's copy retained each of its image shape's
/// arrays. In a profile at `values` such copies (with the table's own and the open
/// transaction's) were about 5 % of Daybook's CPU; without them its CPU per million changes
/// fell by about a tenth.
final class Capture: Sendable {
    let level: CaptureLevel
    /// At `values`: which columns an image holds, and which as hashes or masks.
    let image: RowImageShape?
    /// When the rule hashes key columns: the key is filed under their hashes everywhere.
    let keyHashing: KeyHashing?

    init(level: CaptureLevel, image: RowImageShape? = nil, keyHashing: KeyHashing? = nil) {
        self.level = level
        self.image = image
        self.keyHashing = keyHashing
    }

    /// A table without a rule: its keys only. Shared, so that looking it up allocates nothing.
    static let keysOnly = Capture(level: .keys)
}

/// Key columns stored as keyed hashes (`capture … --hash` of a key column): the sink files the
/// row under `{"email": "hmac:…"}`, never the value.
struct KeyHashing: Sendable {
    /// Per key column, in the key's order: whether it is hashed.
    let hashed: [Bool]
    let key: ValueKey
}
