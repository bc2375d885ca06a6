import Foundation
import Testing
import Windowing

private let grace = Duration.seconds(600)
private let graceMicroseconds: Int64 = 600_000_000

/// Day windows in UTC.
private let november24 = Window(start: .utc(2026, 11, 24), end: .utc(2026, 11, 25))
private let november25 = Window(start: .utc(2026, 11, 25), end: .utc(2026, 11, 26))
private let november26 = Window(start: .utc(2026, 11, 26), end: .utc(2026, 11, 27))
private let november27 = Window(start: .utc(2026, 11, 27), end: .utc(2026, 11, 28))

private func dailyEngine(
    grace: Duration = grace,
    zone: String = "UTC",
    streamTime: Timestamp? = nil,
    openWindows: [Window] = []
) throws -> WindowingEngine {
    let timeZone = try #require(TimeZone(identifier: zone))
    return WindowingEngine(
        calendar: WindowCalendar(length: .days(1), timeZone: timeZone),
        grace: grace,
        streamTime: streamTime,
        openWindows: openWindows
    )
}

/// Hour windows in UTC on 2026-11-25: `hourWindow(3)` is [03:00, 04:00).
private func hourWindow(_ hour: Int64) -> Window {
    Window(start: .utc(2026, 11, 25, hour), end: .utc(2026, 11, 25, hour + 1))
}

private func hourlyEngine(grace: Duration) throws -> WindowingEngine {
    WindowingEngine(
        calendar: WindowCalendar(
            length: try WindowLength(seconds: 3_600),
            timeZone: try #require(TimeZone(identifier: "UTC"))
        ),
        grace: grace
    )
}

@Test func placeOpensAWindowOnceAndDoesNotMoveStreamTime() throws {
    var engine = try dailyEngine()
    #expect(engine.place(.utc(2026, 11, 25, 9)) == .onTime(november25, opened: true))
    #expect(engine.place(.utc(2026, 11, 25, 17)) == .onTime(november25, opened: false))
    #expect(engine.place(.utc(2026, 11, 25)) == .onTime(november25, opened: false))
    #expect(engine.streamTime == nil)
    #expect(engine.openWindowsInOrder == [november25])
    #expect(engine.closeDue() == [])
}

@Test func closeTimeIsEndPlusGrace() throws {
    let engine = try dailyEngine()
    #expect(engine.closeTime(of: november25) == november25.end.plus(microseconds: graceMicroseconds))
    #expect(engine.isClosed(november25) == false)
}

@Test func windowClosesExactlyAtEndPlusGrace() throws {
    var engine = try dailyEngine()
    let closeTime = november25.end.plus(microseconds: graceMicroseconds)
    #expect(engine.place(.utc(2026, 11, 25, 12)) == .onTime(november25, opened: true))
    #expect(engine.advance(to: closeTime.plus(microseconds: -1)) == [])
    #expect(engine.isClosed(november25) == false)
    #expect(engine.openWindowsInOrder == [november25])
    #expect(engine.advance(to: closeTime) == [november25])
    #expect(engine.isClosed(november25))
    #expect(engine.streamTime == closeTime)
    #expect(engine.openWindowsInOrder == [])
    #expect(engine.advance(to: closeTime.plus(microseconds: 1)) == [])
}

@Test func changeExactlyAtEndGoesToTheNextWindow() throws {
    var engine = try dailyEngine()
    #expect(engine.place(.utc(2026, 11, 25, 23, 59, 59, microsecond: 999_999)) == .onTime(november25, opened: true))
    #expect(engine.place(november25.end) == .onTime(november26, opened: true))
    #expect(engine.place(november25.end.plus(microseconds: -1)) == .onTime(november25, opened: false))
    #expect(engine.openWindowsInOrder == [november25, november26])
}

@Test func changesDuringGraceAreOnTime() throws {
    var engine = try dailyEngine()
    #expect(engine.place(.utc(2026, 11, 25, 12)) == .onTime(november25, opened: true))
    #expect(engine.advance(to: .utc(2026, 11, 26, 0, 5)) == [])
    #expect(engine.place(.utc(2026, 11, 25, 23)) == .onTime(november25, opened: false))
    // A window that never had a change can still open during its grace.
    #expect(engine.place(.utc(2026, 11, 26, 0, 5)) == .onTime(november26, opened: true))
    #expect(engine.advance(to: .utc(2026, 11, 26, 0, 10)) == [november25])
}

@Test func lateChangeDoesNotReopenItsWindow() throws {
    var engine = try dailyEngine()
    #expect(engine.place(.utc(2026, 11, 25, 12)) == .onTime(november25, opened: true))
    #expect(engine.advance(to: .utc(2026, 11, 26, 1)) == [november25])
    #expect(engine.place(.utc(2026, 11, 25, 23)) == .late(november25))
    #expect(engine.place(.utc(2026, 11, 25, 23)) == .late(november25))
    #expect(engine.place(november25.start) == .late(november25))
    #expect(engine.openWindowsInOrder == [])
    #expect(engine.advance(to: .utc(2026, 11, 28)) == [])
    #expect(engine.place(.utc(2026, 11, 25, 23)) == .late(november25))
}

@Test func changeForAWindowThatNeverOpenedButIsDueIsLate() throws {
    var engine = try dailyEngine()
    #expect(engine.advance(to: .utc(2026, 11, 27, 6)) == [])
    #expect(engine.place(.utc(2026, 11, 24, 8)) == .late(november24))
    #expect(engine.place(.utc(2026, 11, 26, 23, 59)) == .late(november26))
    #expect(engine.place(.utc(2026, 11, 27, 5)) == .onTime(november27, opened: true))
    #expect(engine.openWindowsInOrder == [november27])
}

@Test func streamTimeNeverMovesBackwards() throws {
    var engine = try dailyEngine()
    #expect(engine.place(.utc(2026, 11, 25, 12)) == .onTime(november25, opened: true))
    #expect(engine.advance(to: .utc(2026, 11, 25, 20)) == [])
    #expect(engine.advance(to: .utc(2026, 11, 25, 10)) == [])
    #expect(engine.streamTime == .utc(2026, 11, 25, 20))
    #expect(engine.advance(to: .utc(2026, 11, 25, 20)) == [])
    #expect(engine.streamTime == .utc(2026, 11, 25, 20))
    #expect(engine.advance(to: .utc(2026, 11, 27)) == [november25])
    #expect(engine.advance(to: .utc(2026, 11, 25, 12)) == [])
    #expect(engine.streamTime == .utc(2026, 11, 27))
    // An old change stays late even though the last advance asked for an earlier time.
    #expect(engine.place(.utc(2026, 11, 25, 12)) == .late(november25))
}

@Test func heartbeatAloneClosesAWindow() throws {
    var engine = try dailyEngine()
    #expect(engine.place(.utc(2026, 11, 25, 12)) == .onTime(november25, opened: true))
    #expect(engine.advance(to: .utc(2026, 11, 25, 12)) == [])
    // No more changes: only heartbeats move stream time.
    #expect(engine.advance(to: .utc(2026, 11, 25, 23, 59)) == [])
    #expect(engine.advance(to: .utc(2026, 11, 26, 0, 9, 59)) == [])
    #expect(engine.advance(to: .utc(2026, 11, 26, 0, 10)) == [november25])
    #expect(engine.advance(to: .utc(2026, 11, 26, 0, 11)) == [])
}

@Test func firstAdvanceFromNoStreamTimeClosesWhatIsDue() throws {
    var engine = try dailyEngine()
    #expect(engine.place(.utc(2026, 11, 25, 12)) == .onTime(november25, opened: true))
    #expect(engine.advance(to: .utc(2026, 11, 27)) == [november25])
}

@Test func severalWindowsCloseAtOnceOldestFirstAndOnlyOnce() throws {
    var engine = try hourlyEngine(grace: .seconds(30))
    #expect(engine.place(.utc(2026, 11, 25, 3, 10)) == .onTime(hourWindow(3), opened: true))
    #expect(engine.place(.utc(2026, 11, 25, 0, 59)) == .onTime(hourWindow(0), opened: true))
    #expect(engine.place(.utc(2026, 11, 25, 5, 0)) == .onTime(hourWindow(5), opened: true))
    #expect(engine.place(.utc(2026, 11, 25, 2, 30)) == .onTime(hourWindow(2), opened: true))
    #expect(engine.place(.utc(2026, 11, 25, 1)) == .onTime(hourWindow(1), opened: true))
    #expect(
        engine.advance(to: .utc(2026, 11, 25, 4, 0, 30)) == [
            hourWindow(0), hourWindow(1), hourWindow(2), hourWindow(3),
        ]
    )
    #expect(engine.openWindowsInOrder == [hourWindow(5)])
    #expect(engine.advance(to: .utc(2026, 11, 25, 5, 30)) == [])
    #expect(engine.closeDue() == [])
    #expect(engine.advance(to: .utc(2026, 11, 25, 6, 0, 30)) == [hourWindow(5)])
    #expect(engine.advance(to: .utc(2026, 11, 26)) == [])
}

@Test func restartClosesDueWindowsWithCloseDue() throws {
    let persistedStreamTime = Timestamp.utc(2026, 11, 26, 0, 10)
    var engine = try dailyEngine(
        streamTime: persistedStreamTime,
        openWindows: [november26, november25, november24]
    )
    #expect(engine.streamTime == persistedStreamTime)
    #expect(engine.closeDue() == [november24, november25])
    #expect(engine.closeDue() == [])
    #expect(engine.openWindowsInOrder == [november26])
    #expect(engine.place(.utc(2026, 11, 25, 23)) == .late(november25))
    #expect(engine.place(.utc(2026, 11, 26, 1)) == .onTime(november26, opened: false))
    #expect(engine.advance(to: .utc(2026, 11, 27, 0, 10)) == [november26])
}

@Test func restartWithNothingDue() throws {
    var engine = try dailyEngine(streamTime: .utc(2026, 11, 26, 0, 9), openWindows: [november25, november25])
    #expect(engine.closeDue() == [])
    #expect(engine.openWindowsInOrder == [november25])
    #expect(engine.advance(to: .utc(2026, 11, 26, 0, 10)) == [november25])
}

@Test func restartWithoutStreamTimeClosesNothing() throws {
    var engine = try dailyEngine(streamTime: nil, openWindows: [november24])
    #expect(engine.closeDue() == [])
    #expect(engine.openWindowsInOrder == [november24])
}

@Test func zeroGraceClosesAtTheWindowEnd() throws {
    var engine = try dailyEngine(grace: .zero)
    #expect(engine.closeTime(of: november25) == november25.end)
    #expect(engine.place(.utc(2026, 11, 25, 12)) == .onTime(november25, opened: true))
    #expect(engine.advance(to: november25.end.plus(microseconds: -1)) == [])
    #expect(engine.place(november25.end.plus(microseconds: -1)) == .onTime(november25, opened: false))
    #expect(engine.advance(to: november25.end) == [november25])
    #expect(engine.place(november25.end.plus(microseconds: -1)) == .late(november25))
    #expect(engine.place(november25.end) == .onTime(november26, opened: true))
    #expect(engine.advance(to: november26.end) == [november26])
}

@Test func graceWithAFractionOfASecond() throws {
    var engine = try dailyEngine(grace: .milliseconds(1_500))
    #expect(engine.closeTime(of: november25) == november25.end.plus(microseconds: 1_500_000))
    #expect(engine.place(.utc(2026, 11, 25, 12)) == .onTime(november25, opened: true))
    #expect(engine.advance(to: november25.end.plus(microseconds: 1_499_999)) == [])
    #expect(engine.advance(to: november25.end.plus(microseconds: 1_500_000)) == [november25])
}

@Test func graceShorterThanAMicrosecondIsDropped() throws {
    let engine = try dailyEngine(grace: .nanoseconds(999))
    #expect(engine.closeTime(of: november25) == november25.end)
}

@Test func dayWindowOnBerlinFallBackClosesAfter25Hours() throws {
    var engine = try dailyEngine(grace: .zero, zone: "Europe/Berlin")
    let dstDay = Window(start: .civil(2026, 10, 25, offsetHours: 2), end: .civil(2026, 10, 26, offsetHours: 1))
    #expect(engine.place(.civil(2026, 10, 25, 2, 30, offsetHours: 1)) == .onTime(dstDay, opened: true))
    // 24 hours after the start is still inside the day.
    #expect(engine.advance(to: dstDay.start.plus(microseconds: Timestamp.microsecondsPerDay)) == [])
    #expect(engine.place(.civil(2026, 10, 25, 23, 30, offsetHours: 1)) == .onTime(dstDay, opened: false))
    #expect(engine.advance(to: dstDay.end.plus(microseconds: -1)) == [])
    #expect(engine.advance(to: dstDay.end) == [dstDay])
}
