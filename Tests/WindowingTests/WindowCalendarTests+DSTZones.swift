import Foundation
import Testing
import Windowing

// Zones whose DST change happens at midnight, where a local day can start at 01:00 or see
// midnight twice. Each test runs only if Foundation has the zone, and says so when it does not.

@Test(.enabled(if: hasZone("America/Sao_Paulo"), "Foundation has no zone data for America/Sao_Paulo"))
func saoPauloMidnightThatDidNotHappen() throws {
    // 2018-11-04 00:00 -03:00 became 01:00 -02:00: the day starts at 01:00.
    var calendar = try makeCalendar(.days(1), "America/Sao_Paulo")
    let november3 = Window(start: .civil(2018, 11, 3, offsetHours: -3), end: .civil(2018, 11, 4, 1, offsetHours: -2))
    let november4 = Window(start: .civil(2018, 11, 4, 1, offsetHours: -2), end: .civil(2018, 11, 5, offsetHours: -2))
    #expect(november3.end == .utc(2018, 11, 4, 3))
    #expect(calendar.window(containing: .civil(2018, 11, 3, 12, offsetHours: -3)) == november3)
    #expect(calendar.window(containing: november3.end.plus(microseconds: -1)) == november3)
    #expect(calendar.window(containing: november4.start) == november4)
    #expect(calendar.window(containing: .civil(2018, 11, 4, 12, offsetHours: -2)) == november4)
    #expect(november3.lengthInMicroseconds == day)
    #expect(november4.lengthInMicroseconds == 23 * hour)
    #expect(try freshWindow(.days(1), "America/Sao_Paulo", containing: november4.start) == november4)
    #expect(
        try freshWindow(.days(1), "America/Sao_Paulo", containing: november4.start.plus(microseconds: -1)) == november3
    )

    var hourly = try makeCalendar(try WindowLength(seconds: 3_600), "America/Sao_Paulo")
    let windows = walk(&hourly, from: november4.start, to: november4.end)
    #expect(windows.count == 23)
    #expect(windows.first == Window(start: november4.start, end: .civil(2018, 11, 4, 2, offsetHours: -2)))
    #expect(windows.last?.end == november4.end)
}

@Test(.enabled(if: hasZone("America/Sao_Paulo"), "Foundation has no zone data for America/Sao_Paulo"))
func saoPauloDayWithARepeatedHourBeforeMidnight() throws {
    // 2019-02-17 00:00 -02:00 became 2019-02-16 23:00 -03:00: the 16th is 25 hours long.
    var calendar = try makeCalendar(.days(1), "America/Sao_Paulo")
    let february16 = Window(start: .civil(2019, 2, 16, offsetHours: -2), end: .civil(2019, 2, 17, offsetHours: -3))
    #expect(calendar.window(containing: .civil(2019, 2, 16, 23, 30, offsetHours: -2)) == february16)
    #expect(calendar.window(containing: .civil(2019, 2, 16, 23, 30, offsetHours: -3)) == february16)
    #expect(february16.lengthInMicroseconds == 25 * hour)
    #expect(
        calendar.window(containing: february16.end)
            == Window(start: .civil(2019, 2, 17, offsetHours: -3), end: .civil(2019, 2, 18, offsetHours: -3))
    )
}

@Test(.enabled(if: hasZone("America/Havana"), "Foundation has no zone data for America/Havana"))
func havanaMidnightThatHappenedTwice() throws {
    // 2026-11-01 01:00 CDT (-04:00) became 00:00 CST (-05:00): midnight happens twice and the
    // day starts at the first one.
    let october31 = Window(start: .civil(2026, 10, 31, offsetHours: -4), end: .civil(2026, 11, 1, offsetHours: -4))
    let november1 = Window(start: .civil(2026, 11, 1, offsetHours: -4), end: .civil(2026, 11, 2, offsetHours: -5))
    #expect(november1.lengthInMicroseconds == 25 * hour)
    let insideNovember1: [Timestamp] = [
        november1.start, .civil(2026, 11, 1, 0, 30, offsetHours: -4), .civil(2026, 11, 1, 0, 0, offsetHours: -5),
        .civil(2026, 11, 1, 0, 30, offsetHours: -5), .civil(2026, 11, 1, 12, offsetHours: -5),
        november1.end.plus(microseconds: -1),
    ]
    for time in insideNovember1 {
        #expect(try freshWindow(.days(1), "America/Havana", containing: time) == november1, "\(time)")
    }
    #expect(
        try freshWindow(.days(1), "America/Havana", containing: november1.start.plus(microseconds: -1)) == october31
    )
    var calendar = try makeCalendar(.days(1), "America/Havana")
    #expect(calendar.window(containing: .civil(2026, 10, 31, 12, offsetHours: -4)) == october31)
    for time in insideNovember1 { #expect(calendar.window(containing: time) == november1, "\(time)") }
    #expect(october31.lengthInMicroseconds == day)
}

@Test(.enabled(if: hasZone("America/Havana"), "Foundation has no zone data for America/Havana"))
func havanaMidnightThatDidNotHappen() throws {
    // 2026-03-08 00:00 CST (-05:00) became 01:00 CDT (-04:00).
    let march7 = Window(start: .civil(2026, 3, 7, offsetHours: -5), end: .civil(2026, 3, 8, 1, offsetHours: -4))
    let march8 = Window(start: .civil(2026, 3, 8, 1, offsetHours: -4), end: .civil(2026, 3, 9, offsetHours: -4))
    #expect(march7.lengthInMicroseconds == day)
    #expect(march8.lengthInMicroseconds == 23 * hour)
    var calendar = try makeCalendar(.days(1), "America/Havana")
    #expect(calendar.window(containing: .civil(2026, 3, 7, 23, 59, 59, offsetHours: -5)) == march7)
    #expect(calendar.window(containing: march8.start) == march8)
    #expect(calendar.window(containing: .civil(2026, 3, 8, 12, offsetHours: -4)) == march8)
    var twoDays = try makeCalendar(.days(2), "America/Havana")
    let windows = walk(&twoDays, from: .civil(2026, 3, 2, offsetHours: -5), to: .civil(2026, 3, 14, offsetHours: -4))
    #expect(zip(windows, windows.dropFirst()).allSatisfy { $0.end == $1.start })
    #expect(windows.allSatisfy { [47 * hour, 48 * hour].contains($0.lengthInMicroseconds) })
}

/// Zones whose DST changes in 2018 and 2019 happen at 01:00 (Berlin), 02:00 (New York), at midnight
/// (São Paulo, Havana, Tehran), at 24:00 (Santiago), and by 30 minutes (Lord Howe).
private let sweptZones = [
    "Europe/Berlin", "America/New_York", "America/Sao_Paulo", "America/Havana", "America/Santiago",
    "Australia/Lord_Howe", "Asia/Tehran",
]

@Test(
    .enabled(if: sweptZones.allSatisfy(hasZone), "Foundation has no zone data for one of \(sweptZones)"),
    arguments: sweptZones
)
func everyDayTilesWithTheNextAndIsFoundWithoutCache(zone: String) throws {
    for length in [WindowLength.days(1), .days(2)] {
        var calendar = try makeCalendar(length, zone)
        let windows = walk(&calendar, from: calendar.window(containing: .utc(2018, 1, 1)).start, to: .utc(2020, 1, 1))
        #expect(Int64(windows.count) >= 729 * 86_400 / length.nominalSeconds, "\(zone) \(length)")
        let nominalHours = length.nominalSeconds / 3_600
        var problem: String?
        for (window, next) in zip(windows, windows.dropFirst()) {
            if window.end != next.start {
                problem = "\(window) is followed by \(next)"
            } else if !((nominalHours - 1)...(nominalHours + 1)).contains(window.lengthInMicroseconds / hour) {
                problem = "\(window) is \(window.lengthInMicroseconds / hour) hours long"
            } else if try freshWindow(length, zone, containing: window.start) != window {
                problem = "a fresh calendar disagrees at the start of \(window)"
            } else if try freshWindow(length, zone, containing: window.end.plus(microseconds: -1)) != window {
                problem = "a fresh calendar disagrees 1µs before the end of \(window)"
            }
            if problem != nil { break }
        }
        #expect(problem == nil, "\(zone) \(length)")
    }
}
