/// Text for a terminal: wrapped at spaces so that no line passes a width (the digest's and the
/// report's 100 columns), rather than left to the terminal to break mid-word.
public enum TextWrap {
    /// `text` wrapped at spaces to `width`; the first line indented by `indent`, the rest by
    /// `hanging` (default: the same). A single word longer than the width (a long key) is cut
    /// with `…`, so no line exceeds it.
    public static func lines(_ text: String, width: Int = 100, indent: String = "", hanging: String? = nil) -> [String]
    {
        var lines: [String] = []
        var line = indent
        var lineHasWord = false
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let candidate = lineHasWord ? line + " " + word : line + word
            if candidate.count > width, lineHasWord {
                lines.append(line)
                line = (hanging ?? indent) + word
            } else {
                line = candidate
            }
            lineHasWord = true
        }
        lines.append(line)
        return lines.map { $0.count > width ? String($0.prefix(width - 1)) + "…" : $0 }
    }
}
