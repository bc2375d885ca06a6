import Windowing

/// Test-only constructors that compute instants with integer arithmetic, so expected values
/// never depend on the Foundation calendar code under test.
extension Timestamp {
    static let microsecondsPerSecond: Int64 = 1_000_000
    static let microsecondsPerHour: Int64 = 3_600 * microsecondsPerSecond
    static let microsecondsPerDay: Int64 = 24 * microsecondsPerHour

    /// The instant of a local wall-clock time at a fixed UTC offset, e.g. `+01:00` is `offsetHours: 1`.
    static func civil(
        _ year: Int64,
        _ month: Int64,
        _ day: Int64,
        _ hour: Int64 = 0,
        _ minute: Int64 = 0,
        _ second: Int64 = 0,
        microsecond: Int64 = 0,
        offsetHours: Int64 = 0
    ) -> Timestamp {
        let seconds = daysFromCivil(year, month, day) * 86_400 + (hour - offsetHours) * 3_600 + minute * 60 + second
        return Timestamp(microsecondsSinceEpoch: seconds * microsecondsPerSecond + microsecond)
    }

    /// An instant in UTC.
    static func utc(
        _ year: Int64,
        _ month: Int64,
        _ day: Int64,
        _ hour: Int64 = 0,
        _ minute: Int64 = 0,
        _ second: Int64 = 0,
        microsecond: Int64 = 0
    ) -> Timestamp {
        civil(year, month, day, hour, minute, second, microsecond: microsecond, offsetHours: 0)
    }

    /// This instant moved by a number of microseconds.
    func plus(microseconds: Int64) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: microsecondsSinceEpoch + microseconds)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthFromMarch = (month + 9) % 12
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension Window {
    /// The window's length in microseconds.
    var lengthInMicroseconds: Int64 { end.microsecondsSinceEpoch - start.microsecondsSinceEpoch }
}
