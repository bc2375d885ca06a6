import Foundation
import Testing
import Windowing

// MARK: - Whole days

@Test func oneDayWindowInUTC() throws {
    var calendar = try makeCalendar(.days(1), "UTC")
    let window = calendar.window(containing: .utc(2026, 11, 25, 13, 45, 10, microsecond: 123_456))
    #expect(window == Window(start: .utc(2026, 11, 25), end: .utc(2026, 11, 26)))
    #expect(window.lengthInMicroseconds == day)
    #expect(
        calendar.window(containing: .utc(2026, 11, 26, 0, 0, 1))
            == Window(start: .utc(2026, 11, 26), end: .utc(2026, 11, 27))
    )
    #expect(
        calendar.window(containing: .utc(2026, 11, 24, 23, 59, 59))
            == Window(start: .utc(2026, 11, 24), end: .utc(2026, 11, 25))
    )
}

@Test func oneDayWindowInBerlinStartsAtLocalMidnight() throws {
    var calendar = try makeCalendar(.days(1), "Europe/Berlin")
    let november25 = Window(start: .civil(2026, 11, 25, offsetHours: 1), end: .civil(2026, 11, 26, offsetHours: 1))
    #expect(november25.start == .utc(2026, 11, 24, 23))
    #expect(calendar.window(containing: .civil(2026, 11, 25, 12, offsetHours: 1)) == november25)
    // 00:30 local on the 25th is still the 24th in UTC.
    #expect(calendar.window(containing: .utc(2026, 11, 24, 23, 30)) == november25)
    // 23:30 local on the 24th is the previous local day.
    #expect(
        calendar.window(containing: .utc(2026, 11, 24, 22, 30))
            == Window(start: .civil(2026, 11, 24, offsetHours: 1), end: .civil(2026, 11, 25, offsetHours: 1))
    )
    // Summer time: midnight is at +02:00.
    #expect(
        calendar.window(containing: .civil(2026, 7, 1, 9, offsetHours: 2))
            == Window(start: .civil(2026, 7, 1, offsetHours: 2), end: .civil(2026, 7, 2, offsetHours: 2))
    )
}

@Test func berlinSpringForwardDayIs23HoursLong() throws {
    var calendar = try makeCalendar(.days(1), "Europe/Berlin")
    let window = calendar.window(containing: .civil(2026, 3, 29, 12, offsetHours: 2))
    #expect(window == Window(start: .civil(2026, 3, 29, offsetHours: 1), end: .civil(2026, 3, 30, offsetHours: 2)))
    #expect(window.lengthInMicroseconds == 23 * hour)
    // Just before and just after the jump from 02:00 CET to 03:00 CEST: the same day.
    #expect(calendar.window(containing: .utc(2026, 3, 29, 0, 59, 59, microsecond: 999_999)) == window)
    #expect(calendar.window(containing: .utc(2026, 3, 29, 1)) == window)
    // The days around it are 24 hours long.
    #expect(calendar.window(containing: .civil(2026, 3, 28, 12, offsetHours: 1)).lengthInMicroseconds == day)
    #expect(calendar.window(containing: .civil(2026, 3, 30, 12, offsetHours: 2)).lengthInMicroseconds == day)
}

@Test func berlinFallBackDayIs25HoursLong() throws {
    var calendar = try makeCalendar(.days(1), "Europe/Berlin")
    let window = calendar.window(containing: .civil(2026, 10, 25, 12, offsetHours: 1))
    #expect(window == Window(start: .civil(2026, 10, 25, offsetHours: 2), end: .civil(2026, 10, 26, offsetHours: 1)))
    #expect(window.lengthInMicroseconds == 25 * hour)
    // 02:30 happens twice (CEST, then CET): both are in the same day.
    #expect(calendar.window(containing: .civil(2026, 10, 25, 2, 30, offsetHours: 2)) == window)
    #expect(calendar.window(containing: .civil(2026, 10, 25, 2, 30, offsetHours: 1)) == window)
    #expect(calendar.window(containing: .civil(2026, 10, 24, 12, offsetHours: 2)).lengthInMicroseconds == day)
    #expect(calendar.window(containing: .civil(2026, 10, 26, 12, offsetHours: 1)).lengthInMicroseconds == day)
}

@Test func instantAtStartBelongsToTheWindowAndInstantAtEndToTheNext() throws {
    for zone in ["UTC", "Europe/Berlin"] {
        var calendar = try makeCalendar(.days(1), zone)
        let window = calendar.window(containing: .utc(2026, 11, 25, 12))
        let next = calendar.window(containing: window.end)
        #expect(next.start == window.end, "\(zone)")
        #expect(next != window, "\(zone)")
        #expect(calendar.window(containing: window.start) == window, "\(zone)")
        #expect(calendar.window(containing: window.end.plus(microseconds: -1)) == window, "\(zone)")
        #expect(calendar.window(containing: window.start.plus(microseconds: -1)).end == window.start, "\(zone)")
    }
}

@Test func boundariesDoNotDependOnWhatIsCached() throws {
    // Berlin days around both DST changes, asked for with an empty cache.
    let ends: [Timestamp] = [
        .civil(2026, 3, 29, offsetHours: 1), .civil(2026, 3, 30, offsetHours: 2),
        .civil(2026, 10, 25, offsetHours: 2), .civil(2026, 10, 26, offsetHours: 1),
        .civil(2026, 11, 25, offsetHours: 1),
    ]
    for end in ends {
        let before = try freshWindow(.days(1), "Europe/Berlin", containing: end.plus(microseconds: -1))
        let at = try freshWindow(.days(1), "Europe/Berlin", containing: end)
        #expect(before.end == end, "window before \(end)")
        #expect(at.start == end, "window at \(end)")
    }
}

@Test func aSharedCalendarAgreesWithFreshOnesInAnyOrder() throws {
    var instants: [Timestamp] = []
    var time = Timestamp.civil(2026, 10, 23, offsetHours: 2)
    while time < .civil(2026, 10, 28, offsetHours: 1) {
        instants += [time.plus(microseconds: -1), time, time.plus(microseconds: 1)]
        time = time.plus(microseconds: 5 * hour)
    }
    instants += [.civil(2026, 10, 25, offsetHours: 2), .civil(2026, 10, 26, offsetHours: 1)]
    let orders = [
        instants, instants.reversed(),
        stride(from: 0, to: instants.count, by: 2).map { instants[$0] }
            + stride(from: 1, to: instants.count, by: 2).map { instants[$0] }.reversed(),
    ]
    for length in [WindowLength.days(1), .days(2), try WindowLength(seconds: 3_600)] {
        for order in orders {
            var shared = try makeCalendar(length, "Europe/Berlin")
            for instant in order {
                let window = shared.window(containing: instant)
                #expect(
                    window == (try freshWindow(length, "Europe/Berlin", containing: instant)),
                    "\(length) at \(instant)"
                )
                #expect(window.contains(instant), "\(length) at \(instant)")
            }
        }
    }
}

// MARK: - Shorter windows

@Test func twoSecondWindowsAreAlignedToMidnight() throws {
    var calendar = try makeCalendar(try WindowLength(seconds: 2), "UTC")
    #expect(
        calendar.window(containing: .utc(2026, 11, 25, 10, 0, 1, microsecond: 500_000))
            == Window(start: .utc(2026, 11, 25, 10, 0, 0), end: .utc(2026, 11, 25, 10, 0, 2))
    )
    #expect(
        calendar.window(containing: .utc(2026, 11, 25, 10, 0, 2))
            == Window(start: .utc(2026, 11, 25, 10, 0, 2), end: .utc(2026, 11, 25, 10, 0, 4))
    )
    #expect(
        calendar.window(containing: .utc(2026, 11, 25, 23, 59, 59, microsecond: 999_999))
            == Window(start: .utc(2026, 11, 25, 23, 59, 58), end: .utc(2026, 11, 26))
    )
    #expect(
        calendar.window(containing: .utc(2026, 11, 26))
            == Window(start: .utc(2026, 11, 26), end: .utc(2026, 11, 26, 0, 0, 2))
    )
}

@Test func twoSecondWindowsInBerlinStartAtLocalMidnight() throws {
    var calendar = try makeCalendar(try WindowLength(seconds: 2), "Europe/Berlin")
    let midnight = Timestamp.civil(2026, 11, 25, offsetHours: 1)
    #expect(
        calendar.window(containing: midnight) == Window(start: midnight, end: midnight.plus(microseconds: 2_000_000))
    )
    #expect(
        calendar.window(containing: midnight.plus(microseconds: -1))
            == Window(start: midnight.plus(microseconds: -2_000_000), end: midnight)
    )
}

@Test func fifteenMinuteWindowsInBerlin() throws {
    var calendar = try makeCalendar(try WindowLength(seconds: 900), "Europe/Berlin")
    #expect(
        calendar.window(containing: .civil(2026, 11, 25, 10, 7, 30, offsetHours: 1))
            == Window(
                start: .civil(2026, 11, 25, 10, 0, offsetHours: 1),
                end: .civil(2026, 11, 25, 10, 15, offsetHours: 1)
            )
    )
    #expect(
        calendar.window(containing: .civil(2026, 11, 25, 10, 15, offsetHours: 1))
            == Window(
                start: .civil(2026, 11, 25, 10, 15, offsetHours: 1),
                end: .civil(2026, 11, 25, 10, 30, offsetHours: 1)
            )
    )
    let dayStart = Timestamp.civil(2026, 10, 25, offsetHours: 2)
    let dayEnd = Timestamp.civil(2026, 10, 26, offsetHours: 1)
    let windows = walk(&calendar, from: dayStart, to: dayEnd)
    #expect(windows.count == 100)
    #expect(windows.allSatisfy { $0.lengthInMicroseconds == 15 * 60 * 1_000_000 })
    #expect(windows.last?.end == dayEnd)
}

@Test func oneHourWindowsInUTCAndBerlin() throws {
    var utc = try makeCalendar(try WindowLength(seconds: 3_600), "UTC")
    #expect(
        utc.window(containing: .utc(2026, 11, 25, 13, 59, 59))
            == Window(start: .utc(2026, 11, 25, 13), end: .utc(2026, 11, 25, 14))
    )
    var berlin = try makeCalendar(try WindowLength(seconds: 3_600), "Europe/Berlin")
    #expect(
        berlin.window(containing: .civil(2026, 11, 25, 13, 20, offsetHours: 1))
            == Window(start: .civil(2026, 11, 25, 13, offsetHours: 1), end: .civil(2026, 11, 25, 14, offsetHours: 1))
    )
    let windows = walk(&berlin, from: .civil(2026, 11, 25, offsetHours: 1), to: .civil(2026, 11, 26, offsetHours: 1))
    #expect(windows.count == 24)
}

@Test func oneHourWindowsOnBerlinFallBackDay() throws {
    var calendar = try makeCalendar(try WindowLength(seconds: 3_600), "Europe/Berlin")
    let dayStart = Timestamp.civil(2026, 10, 25, offsetHours: 2)
    let nextMidnight = Timestamp.civil(2026, 10, 26, offsetHours: 1)
    let windows = walk(&calendar, from: dayStart, to: nextMidnight)
    #expect(windows.count == 25)
    #expect(windows.first?.start == dayStart)
    #expect(windows.last?.end == nextMidnight)
    #expect(windows.allSatisfy { $0.lengthInMicroseconds == hour })
    #expect(zip(windows, windows.dropFirst()).allSatisfy { $0.end == $1.start })
    // The two 02:30s fall in different windows.
    let first = calendar.window(containing: .civil(2026, 10, 25, 2, 30, offsetHours: 2))
    let second = calendar.window(containing: .civil(2026, 10, 25, 2, 30, offsetHours: 1))
    #expect(first == Window(start: .utc(2026, 10, 25, 0), end: .utc(2026, 10, 25, 1)))
    #expect(second == Window(start: .utc(2026, 10, 25, 1), end: .utc(2026, 10, 25, 2)))
    // After the change, windows start on the local hour again.
    #expect(
        calendar.window(containing: .civil(2026, 10, 25, 23, 10, offsetHours: 1))
            == Window(start: .civil(2026, 10, 25, 23, offsetHours: 1), end: nextMidnight)
    )
}

@Test func oneHourWindowsOnBerlinSpringForwardDay() throws {
    var calendar = try makeCalendar(try WindowLength(seconds: 3_600), "Europe/Berlin")
    let dayStart = Timestamp.civil(2026, 3, 29, offsetHours: 1)
    let nextMidnight = Timestamp.civil(2026, 3, 30, offsetHours: 2)
    let windows = walk(&calendar, from: dayStart, to: nextMidnight)
    #expect(windows.count == 23)
    #expect(windows.last?.end == nextMidnight)
    #expect(windows.allSatisfy { $0.lengthInMicroseconds == hour })
    #expect(
        calendar.window(containing: .civil(2026, 3, 29, 3, 10, offsetHours: 2))
            == Window(start: .civil(2026, 3, 29, 3, offsetHours: 2), end: .civil(2026, 3, 29, 4, offsetHours: 2))
    )
}

@Test func subDayWindowsNeverCrossLocalMidnight() throws {
    // Two-hour windows on a 25-hour day: the last one is cut short at midnight.
    var calendar = try makeCalendar(try WindowLength(seconds: 7_200), "Europe/Berlin")
    let nextMidnight = Timestamp.civil(2026, 10, 26, offsetHours: 1)
    let windows = walk(&calendar, from: .civil(2026, 10, 25, offsetHours: 2), to: nextMidnight)
    #expect(windows.count == 13)
    #expect(windows.last == Window(start: nextMidnight.plus(microseconds: -hour), end: nextMidnight))
    #expect(
        calendar.window(containing: nextMidnight)
            == Window(start: nextMidnight, end: nextMidnight.plus(microseconds: 2 * hour))
    )
}

// MARK: - Several days

@Test func twoDayWindowsCoverBothDaysAndTile() throws {
    for zone in ["UTC", "Europe/Berlin"] {
        var calendar = try makeCalendar(.days(2), zone)
        let utcOffset: Int64 = zone == "UTC" ? 0 : 1
        var windows: [Window] = []
        for dayOfMonth in Int64(1)...12 {
            let noon = Timestamp.civil(2026, 11, dayOfMonth, 12, offsetHours: utcOffset)
            let window = calendar.window(containing: noon)
            #expect(window.contains(noon), "\(zone) 2026-11-\(dayOfMonth)")
            #expect(window.lengthInMicroseconds == 2 * day, "\(zone) 2026-11-\(dayOfMonth)")
            if windows.last != window { windows.append(window) }
        }
        // Twelve days are six or seven two-day windows, depending on where the pairs start.
        #expect([6, 7].contains(windows.count), "\(zone): \(windows)")
        #expect(zip(windows, windows.dropFirst()).allSatisfy { $0.end == $1.start }, "\(zone): \(windows)")
        // Each window starts at a local midnight and holds exactly two local days.
        for window in windows {
            let firstDay = calendar.localDay(containing: window.start)
            #expect(firstDay.start == window.start, "\(zone)")
            #expect(calendar.localDay(containing: firstDay.end).end == window.end, "\(zone)")
            #expect(calendar.window(containing: window.start) == window, "\(zone)")
            #expect(calendar.window(containing: window.end.plus(microseconds: -1)) == window, "\(zone)")
        }
    }
}

@Test func twoDayWindowsAcrossBerlinDST() throws {
    var calendar = try makeCalendar(.days(2), "Europe/Berlin")
    let windows = walk(&calendar, from: .civil(2026, 10, 20, offsetHours: 2), to: .civil(2026, 10, 30, offsetHours: 1))
    #expect(zip(windows, windows.dropFirst()).allSatisfy { $0.end == $1.start })
    let dstWindow = try #require(windows.first { $0.contains(.civil(2026, 10, 25, 12, offsetHours: 1)) })
    #expect(dstWindow.lengthInMicroseconds == 49 * hour)
    #expect(windows.filter { $0 != dstWindow }.allSatisfy { $0.lengthInMicroseconds == 2 * day })
}

@Test func twoDayWindowsTileAcrossTheEpoch() throws {
    var calendar = try makeCalendar(.days(2), "UTC")
    let windows = walk(&calendar, from: calendar.window(containing: .utc(1969, 12, 20)).start, to: .utc(1970, 1, 10))
    #expect(zip(windows, windows.dropFirst()).allSatisfy { $0.end == $1.start }, "\(windows)")
    #expect(windows.allSatisfy { $0.lengthInMicroseconds == 2 * day }, "\(windows)")
    for window in windows {
        var fresh = try makeCalendar(.days(2), "UTC")
        #expect(fresh.window(containing: window.end.plus(microseconds: -1)) == window)
    }
}
