/// Parses and prints durations as operators write them: `500ms`, `2s`, `15m`, `1h`, `1d`, `1h30m`.
public enum DurationText {
    /// Why a duration could not be read.
    public struct InvalidDuration: Error, CustomStringConvertible {
        public let text: String
        public let reason: String
        public var description: String { "'\(text)' is not a duration: \(reason)" }
    }

    private static let advice = "write a number and a unit, ms, s, m, h or d (for example 2s, 15m, 1h, 1d, 1h30m)"

    /// Parses `text` into milliseconds.
    public static func milliseconds(_ text: String) throws(InvalidDuration) -> Int64 {
        var total: Int64 = 0
        var number: Int64?
        var sawUnit = false
        let characters = Array(text.lowercased())
        var index = 0
        while index < characters.count {
            let character = characters[index]
            index += 1
            if character.isASCII, let digit = character.wholeNumberValue {
                let (times10, overflow1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (value, overflow2) = times10.addingReportingOverflow(Int64(digit))
                guard !overflow1, !overflow2 else { throw InvalidDuration(text: text, reason: "it is too long") }
                number = value
                continue
            }
            let unit: Int64
            switch character {
            case "m" where index < characters.count && characters[index] == "s":
                index += 1
                unit = 1
            case "s": unit = 1000
            case "m": unit = 60_000
            case "h": unit = 3_600_000
            case "d": unit = 86_400_000
            default: throw InvalidDuration(text: text, reason: advice)
            }
            guard let value = number else { throw InvalidDuration(text: text, reason: advice) }
            let (product, overflow) = value.multipliedReportingOverflow(by: unit)
            let (sum, overflow2) = total.addingReportingOverflow(product)
            guard !overflow, !overflow2 else { throw InvalidDuration(text: text, reason: "it is too long") }
            total = sum
            number = nil
            sawUnit = true
        }
        guard sawUnit, number == nil else { throw InvalidDuration(text: text, reason: advice) }
        return total
    }

    /// Parses `text` as a `Duration`.
    public static func duration(_ text: String) throws(InvalidDuration) -> Duration {
        .milliseconds(try milliseconds(text))
    }

    /// Parses `text` into whole seconds (window lengths and grace periods).
    public static func seconds(_ text: String) throws(InvalidDuration) -> Int64 {
        let value = try milliseconds(text)
        guard value % 1000 == 0 else { throw InvalidDuration(text: text, reason: "use whole seconds here") }
        return value / 1000
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
