import Foundation
import Testing
import Windowing

/// Windows closed before a restart stay closed, even if the grace period grew meanwhile.
struct ClosedThroughTests {
    private let calendar = WindowCalendar(length: .days(1), timeZone: TimeZone(identifier: "UTC")!)
    private let day = Window(
        start: Timestamp(secondsSinceEpoch: 1_764_028_800),
        end: Timestamp(secondsSinceEpoch: 1_764_115_200)
    )

    @Test func aLongerGraceDoesNotReopenAClosedWindow() {
        var engine = WindowingEngine(
            calendar: calendar,
            grace: .seconds(86_400),
            streamTime: day.end + .seconds(60),
            closedThrough: day.end
        )
        #expect(engine.isClosed(day))
        #expect(engine.place(day.start + .seconds(10)) == .late(day))
        #expect(engine.openWindows.isEmpty)
    }

    @Test func closingAdvancesClosedThrough() {
        var engine = WindowingEngine(calendar: calendar, grace: .zero)
        #expect(engine.place(day.start) == .onTime(day, opened: true))
        #expect(engine.advance(to: day.end) == [day])
        #expect(engine.closedThrough == day.end)
    }
}

/// Keys compare by bytes, as PostgreSQL compares them.
struct KeyWindowIDTests {
    @Test func canonicallyEquivalentSpellingsAreDistinctKeys() {
        let composed = KeyWindowID(windowStart: Timestamp(secondsSinceEpoch: 0), table: "t", key: "{\"k\":\"\u{E9}\"}")
        let decomposed = KeyWindowID(
            windowStart: Timestamp(secondsSinceEpoch: 0),
            table: "t",
            key: "{\"k\":\"e\u{301}\"}"
        )
        #expect(composed != decomposed)
        #expect(Set([composed, decomposed]).count == 2)
        #expect(
            composed == KeyWindowID(windowStart: Timestamp(secondsSinceEpoch: 0), table: "t", key: "{\"k\":\"\u{E9}\"}")
        )
    }
}
