import Foundation
import Testing
import Windowing

let hour = Timestamp.microsecondsPerHour
let day = Timestamp.microsecondsPerDay

func makeCalendar(_ length: WindowLength, _ zone: String) throws -> WindowCalendar {
    let timeZone = try #require(TimeZone(identifier: zone), "Foundation has no zone data for \(zone)")
    return WindowCalendar(length: length, timeZone: timeZone)
}

/// The window holding `time`, looked up by a calendar with nothing cached.
func freshWindow(_ length: WindowLength, _ zone: String, containing time: Timestamp) throws -> Window {
    var calendar = try makeCalendar(length, zone)
    return calendar.window(containing: time)
}

/// Every window from `start` until `end`, found by asking for the window at each window's end.
func walk(_ calendar: inout WindowCalendar, from start: Timestamp, to end: Timestamp) -> [Window] {
    var windows: [Window] = []
    var time = start
    while time < end {
        let window = calendar.window(containing: time)
        windows.append(window)
        guard window.end > time else {
            Issue.record("the window at \(time) is \(window), which ends at or before it")
            break
        }
        time = window.end
    }
    return windows
}

func hasZone(_ identifier: String) -> Bool { TimeZone(identifier: identifier) != nil }
