import DaybookCore
import Foundation
import PostgresReplication
import Windowing

/// What `daybook run` was told about windows. What it was not told comes from the slot's
/// checkpoint, so a restart or a nightly catch-up run needs no flags to continue a stream as
/// it was summarised; a slot that has summarised nothing yet gets the defaults (1d, 30m, UTC).
public struct WindowRequest: Sendable {
    public var length: WindowLength?
    public var grace: Duration?
    public var timeZoneName: String?

    public init(length: WindowLength? = nil, grace: Duration? = nil, timeZoneName: String? = nil) {
        self.length = length
        self.grace = grace
        self.timeZoneName = timeZoneName
    }

    /// Settings from the flags given, the slot's stored ones, then the defaults.
    func resolve(stored: StoredWindowSettings?) throws(DaybookError) -> WindowSettings {
        var length = self.length ?? .days(1)
        if self.length == nil, let stored { length = try stored.windowLength() }
        let grace = self.grace ?? stored.map { .microseconds($0.graceMicroseconds) } ?? .seconds(1800)
        let zone = timeZoneName ?? stored?.timeZone ?? "UTC"
        guard let settings = WindowSettings(length: length, grace: grace, timeZoneName: zone) else {
            throw DaybookError(.configuration, "the slot's stored time zone \(zone) is unknown here: pass --time-zone")
        }
        return settings
    }
}

/// The window settings a slot was summarised with, from `daybook.checkpoint`.
struct StoredWindowSettings: Sendable {
    var length: String
    var graceMicroseconds: Int64
    var timeZone: String

    func windowLength() throws(DaybookError) -> WindowLength {
        do {
            return try WindowLength(seconds: DurationText.seconds(length))
        } catch {
            throw DaybookError(
                .configuration,
                "the slot's stored window length '\(length)' is unreadable: pass --window"
            )
        }
    }

    /// The stored settings, if the slot has summarised anything (a first run's placeholder
    /// row, with no LSN, stream time or window, does not count).
    static func load(_ connection: PostgresConnection, slot: String) throws(PostgresError) -> StoredWindowSettings? {
        guard let checkpoint = try CheckpointRow.read(slot: slot, on: connection), checkpoint.hasResults,
            let length = checkpoint.windowLength, let grace = checkpoint.graceMicroseconds,
            let zone = checkpoint.timeZone
        else { return nil }
        return StoredWindowSettings(length: length, graceMicroseconds: grace, timeZone: zone)
    }
}
