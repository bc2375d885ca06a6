import Windowing

/// How the changes of a table are kept under one capture rule (``CaptureRule``): its level,
/// at `values` the shape of its row images, and when the rule hashes key columns, how.
struct Capture: Sendable {
    var level: CaptureLevel
    /// At `values`: which columns an image holds, and which as hashes or masks.
    var image: RowImageShape?
    /// When the rule hashes key columns: the key is filed under their hashes everywhere.
    var keyHashing: KeyHashing?

    init(level: CaptureLevel) { self.level = level }

    var parts: (CaptureLevel, RowImageShape?, KeyHashing?) { (level, image, keyHashing) }
}

/// Key columns stored as keyed hashes (`capture … --hash` of a key column): the sink files the
/// row under `{"email": "hmac:…"}`, never the value.
struct KeyHashing: Sendable {
    /// Per key column, in the key's order: whether it is hashed.
    let hashed: [Bool]
    let key: ValueKey
}
