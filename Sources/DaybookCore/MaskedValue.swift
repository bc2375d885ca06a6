/// A masked column of a `values` table (`daybook capture TABLE values --mask COLUMN`): the sink
/// never holds its values. What a reader sees is a fixed marker, `(masked)`, or `(masked,
/// changed)` on an event whose value differs from the key's previous one; NULL stays null.
///
/// Whether it changed is known without the value: while its day is open the sink holds a tag
/// in its place (``ValueKey/maskTag(_:)``, a keyed HMAC, equal for equal values), which the
/// close compares and then replaces by the marker in every event and in `changed`; only the
/// key's latest image keeps its tag, for the next day's first comparison.
public enum MaskedValue {
    /// What a tag starts with: a private-use character no text value of the table is taken for.
    public static let tagPrefix = "\u{E000}mask:"
    /// What every reader sees of a masked value.
    public static let marker = "(masked)"
    /// On an event whose masked value differs from the key's previous one.
    public static let changedMarker = "(masked, changed)"
}
