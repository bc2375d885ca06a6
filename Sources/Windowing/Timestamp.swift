import Foundation

/// An instant as whole microseconds since the Unix epoch.
///
/// Integer microseconds are PostgreSQL's own resolution, so window boundaries compare exactly
/// with what the database stores; a `Date` (a Double) could round a commit at a boundary
/// into the wrong day.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var microsecondsSinceEpoch: Int64

    public init(microsecondsSinceEpoch: Int64) { self.microsecondsSinceEpoch = microsecondsSinceEpoch }

    public init(secondsSinceEpoch seconds: Int64) { self.microsecondsSinceEpoch = seconds * 1_000_000 }

    /// Converts a `Date`, clamping to the range of whole microseconds (a Double beyond it
    /// would trap on conversion).
    public init(_ date: Date) {
        let microseconds = (date.timeIntervalSince1970 * 1_000_000).rounded()
        if microseconds.isNaN {
            self.microsecondsSinceEpoch = 0
        } else if microseconds >= 9.2e18 {
            self.microsecondsSinceEpoch = .max
        } else if microseconds <= -9.2e18 {
            self.microsecondsSinceEpoch = .min
        } else {
            self.microsecondsSinceEpoch = Int64(microseconds)
        }
    }

    public var date: Date { Date(timeIntervalSince1970: Double(microsecondsSinceEpoch) / 1_000_000) }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    public static func + (lhs: Timestamp, rhs: Duration) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: lhs.microsecondsSinceEpoch + rhs.wholeMicroseconds)
    }

    public var description: String { ISO8601DateFormatter().string(from: date) }
}

extension Duration {
    /// The duration in whole microseconds (sub-microsecond parts are dropped).
    public var wholeMicroseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}

extension Timestamp {
    /// ISO 8601 to the second in `zone`, with its offset as `±HH:MM` (`+00:00` for UTC), as
    /// Daybook shows times to people and in reports.
    public func iso8601(in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let seconds =
            microsecondsSinceEpoch >= 0
            ? microsecondsSinceEpoch / 1_000_000 : (microsecondsSinceEpoch - 999_999) / 1_000_000
        let date = Date(timeIntervalSince1970: Double(seconds))
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let offset = zone.secondsFromGMT(for: date)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let year = String(parts.year ?? 0)
        return String(repeating: "0", count: max(0, 4 - year.count)) + year
            + "-\(two(parts.month ?? 0))-\(two(parts.day ?? 0))T\(two(parts.hour ?? 0)):\(two(parts.minute ?? 0)):\(two(parts.second ?? 0))"
            + (offset < 0 ? "-" : "+") + "\(two(abs(offset) / 3600)):\(two(abs(offset) % 3600 / 60))"
    }
}
