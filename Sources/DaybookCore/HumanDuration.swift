/// One way to say how long, wherever people read it (status, reports' notes, the log, the
/// dashboard, the digest): `5 s`, `3 min 20 s`, `2 h 05 min`, `1 d 2 h`: the two largest units,
/// whole seconds (tenths under ten seconds, `0.3 s`), a minus sign before a negative one.
/// JSON keeps the exact values.
public enum HumanDuration {
    /// `seconds` in words.
    public static func text(seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        if seconds < 0 { return "-" + text(seconds: -seconds) }
        if seconds < 10 {
            let tenths = (seconds * 10).rounded()
            return tenths.truncatingRemainder(dividingBy: 10) == 0
                ? "\(Int(tenths / 10)) s" : "\(Int(tenths / 10)).\(Int(tenths.truncatingRemainder(dividingBy: 10))) s"
        }
        let total = Int(seconds.rounded())
        let (days, hours, minutes, secondsLeft) = (total / 86_400, total % 86_400 / 3600, total % 3600 / 60, total % 60)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        if days > 0 { return hours > 0 ? "\(days) d \(hours) h" : "\(days) d" }
        if hours > 0 { return minutes > 0 ? "\(hours) h \(two(minutes)) min" : "\(hours) h" }
        if minutes > 0 { return secondsLeft > 0 ? "\(minutes) min \(two(secondsLeft)) s" : "\(minutes) min" }
        return "\(secondsLeft) s"
    }

    /// A PostgreSQL interval in its default output (`00:00:05.311986`, `-00:00:03`,
    /// `1 day 02:00:00`, `3 days`) in words; nil when it is not one (months and years have no
    /// fixed length, so they are not read).
    public static func text(interval: String) -> String? {
        seconds(interval: interval).map { text(seconds: $0) }
    }

    /// The seconds of such an interval.
    public static func seconds(interval: String) -> Double? {
        var total = 0.0
        var parts = interval.split(separator: " ").map(String.init)
        if let clock = parts.last, clock.contains(":") {
            parts.removeLast()
            let negative = clock.hasPrefix("-")
            let fields = clock.drop { $0 == "-" || $0 == "+" }.split(separator: ":")
            guard fields.count == 3, let hours = Double(fields[0]), let minutes = Double(fields[1]),
                let secs = Double(fields[2])
            else { return nil }
            total = (hours * 3600 + minutes * 60 + secs) * (negative ? -1 : 1)
        }
        guard parts.count % 2 == 0 else { return nil }
        var index = 0
        while index < parts.count {
            guard let count = Double(parts[index]), parts[index + 1].hasPrefix("day") else { return nil }
            total += count * 86_400
            index += 2
        }
        return total
    }
}
