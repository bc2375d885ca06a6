/// A key's operation letters in the form the sink stores: as they are up to 64 letters, else
/// run-length encoded (`I U×999998 D`) when that is shorter.
///
/// The same rule as the sink's `daybook.compact_ops`, applied when a checkpoint writes a key
/// changed more than 64 times since the previous one, so that a counter updated ten thousand
/// times in a quarter of a second is never stored as ten thousand letters.
public enum CompactOperations {
    /// Raw letters at or below this length are always stored as they are.
    public static let rawLimit = 64

    /// `letters` (ASCII `I`, `U`, `D`, `T`) in their stored form.
    public static func encode(_ letters: [UInt8]) -> [UInt8] {
        guard letters.count > rawLimit else { return letters }
        var output: [UInt8] = []
        var characters = 0  // `×` is two bytes but one character, as the sink counts
        var index = 0
        while index < letters.count {
            let letter = letters[index]
            var end = index + 1
            while end < letters.count, letters[end] == letter { end += 1 }
            if !output.isEmpty {
                output.append(UInt8(ascii: " "))
                characters += 1
            }
            output.append(letter)
            characters += 1
            let run = end - index
            if run > 1 {
                let digits = Array(String(run).utf8)
                output.append(contentsOf: "×".utf8)
                output.append(contentsOf: digits)
                characters += 1 + digits.count
            }
            index = end
        }
        return characters < letters.count ? output : letters
    }
}
