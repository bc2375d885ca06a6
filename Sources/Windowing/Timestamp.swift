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
