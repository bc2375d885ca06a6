import Foundation

/// Maps an instant to the tumbling window that holds it, in one IANA time zone.
///
/// Calendar arithmetic is comparatively slow, so the last day looked up is cached: a stream
/// is mostly in one day, and then finding a window is two integer comparisons.
public struct WindowCalendar: Sendable {
    public let length: WindowLength
    public let timeZone: TimeZone
    private let calendar: Calendar
    private var cachedDay: Window?
    private var cachedDayIndex: Int = 0

    public init(length: WindowLength, timeZone: TimeZone) {
        self.length = length
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// The window that contains `time`.
    public mutating func window(containing time: Timestamp) -> Window {
        let day = localDay(containing: time)
        switch length.kind {
        case .days(1):
            return day
        case .days(let count):
            let offset = ((cachedDayIndex % count) + count) % count
            let start = offset == 0 ? day.start : shiftDays(day.start, by: -offset)
            return Window(start: start, end: shiftDays(start, by: count))
        case .seconds(let seconds):
            let step = seconds * 1_000_000
            let index = (time.microsecondsSinceEpoch - day.start.microsecondsSinceEpoch) / step
            let start = Timestamp(microsecondsSinceEpoch: day.start.microsecondsSinceEpoch + index * step)
            let end = Timestamp(
                microsecondsSinceEpoch: min(start.microsecondsSinceEpoch + step, day.end.microsecondsSinceEpoch)
            )
            return Window(start: start, end: end)
        }
    }

    /// The local calendar day `[midnight, next midnight)` holding `time`.
    public mutating func localDay(containing time: Timestamp) -> Window {
        if let day = cachedDay, day.contains(time) { return day }
        let start = calendar.startOfDay(for: time.date)
        let next = calendar.date(byAdding: .day, value: 1, to: start) ?? start.addingTimeInterval(86_400)
        let day = Window(start: Timestamp(start), end: Timestamp(calendar.startOfDay(for: next)))
        cachedDay = day
        cachedDayIndex = dayIndex(of: start)
        return day
    }

    private func dayIndex(of midnight: Date) -> Int {
        let components = calendar.dateComponents([.year, .month, .day], from: midnight)
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let utcDate = utc.date(from: components) ?? midnight
        return Int((utcDate.timeIntervalSince1970 / 86_400).rounded(.down))
    }

    private func shiftDays(_ time: Timestamp, by days: Int) -> Timestamp {
        let shifted = calendar.date(byAdding: .day, value: days, to: time.date) ?? time.date
        return Timestamp(calendar.startOfDay(for: shifted))
    }
}
