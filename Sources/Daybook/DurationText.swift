/// Parses and prints durations as operators write them: `2s`, `15m`, `1h`, `1d`, `1h30m`.
public enum DurationText {
    /// Why a duration could not be read.
    public struct InvalidDuration: Error, CustomStringConvertible {
        public let text: String
        public var description: String {
            "'\(text)' is not a duration: write a number and a unit, s, m, h or d (for example 2s, 15m, 1h, 1d, 1h30m)"
        }
    }

    /// Parses `text` into whole seconds.
    public static func seconds(_ text: String) throws(InvalidDuration) -> Int64 {
        var total: Int64 = 0
        var number: Int64?
        var sawUnit = false
        for character in text.lowercased() {
            if let digit = character.wholeNumberValue, character.isASCII {
                let (times10, overflow1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (value, overflow2) = times10.addingReportingOverflow(Int64(digit))
                guard !overflow1, !overflow2 else { throw InvalidDuration(text: text) }
                number = value
                continue
            }
            let unit: Int64
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            default: throw InvalidDuration(text: text)
            }
            guard let value = number else { throw InvalidDuration(text: text) }
            let (product, overflow) = value.multipliedReportingOverflow(by: unit)
            guard !overflow else { throw InvalidDuration(text: text) }
            total += product
            number = nil
            sawUnit = true
        }
        guard sawUnit, number == nil else { throw InvalidDuration(text: text) }
        return total
    }

    /// Prints whole seconds in the shortest form, e.g. `90` as `1m30s`.
    public static func format(seconds: Int64) -> String {
        if seconds == 0 { return "0s" }
        var rest = seconds
        var text = ""
        for (unit, suffix) in [(Int64(86_400), "d"), (3600, "h"), (60, "m"), (1, "s")] where rest >= unit {
            text += "\(rest / unit)\(suffix)"
            rest %= unit
        }
        return text
    }
}
