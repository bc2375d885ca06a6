import Foundation
import Windowing

/// How changes are grouped into windows and when windows close.
public struct WindowSettings: Sendable {
    public var length: WindowLength
    public var grace: Duration
    public var timeZone: TimeZone
    /// The IANA name as the operator wrote it (Foundation may report `UTC` as `GMT`).
    public var timeZoneName: String

    /// - Returns: nil when `timeZoneName` is not an IANA time zone.
    public init?(length: WindowLength = .days(1), grace: Duration = .seconds(1800), timeZoneName: String) {
        guard let timeZone = TimeZone(identifier: timeZoneName) else { return nil }
        self.length = length
        self.grace = grace
        self.timeZone = timeZone
        self.timeZoneName = timeZoneName
    }

    /// A fresh windowing engine resuming from `state`.
    public func engine(resuming state: SinkState) -> WindowingEngine {
        WindowingEngine(
            calendar: WindowCalendar(length: length, timeZone: timeZone),
            grace: grace,
            streamTime: state.streamTime,
            openWindows: state.openWindows,
            closedThrough: state.closedThrough
        )
    }

    /// Refuses to continue a stream whose windows were cut differently: mixing window lengths
    /// or time zones in one sink would make days that are neither.
    public func checkCompatible(with state: SinkState, slot: String) throws(DaybookError) {
        if let stored = state.windowLength, stored != length.description {
            throw DaybookError(
                .configuration,
                "slot \(slot) was summarised with --window \(stored), not \(length.description): keep --window \(stored), "
                    + "or use a new slot for the new window length"
            )
        }
        if let stored = state.timeZone, stored != timeZoneName {
            throw DaybookError(
                .configuration,
                "slot \(slot) was summarised in time zone \(stored), not \(timeZoneName): keep --time-zone \(stored), "
                    + "or use a new slot"
            )
        }
    }
}
