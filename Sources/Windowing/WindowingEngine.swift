/// Stream time, open windows and when they close: the contract of the design, as a value.
///
/// Stream time is the largest event time seen (heartbeats included) and never moves
/// backwards. A window closes when stream time reaches `end + grace`; an event for a window
/// that is already closed is late. The engine does no I/O and reads no clock: the caller
/// feeds it commit times and persists what it returns.
public struct WindowingEngine: Sendable {
    public private(set) var calendar: WindowCalendar
    public let grace: Duration
    /// The largest event time seen so far; nil before the first event ever.
    public private(set) var streamTime: Timestamp?
    /// Windows that have received events and are not yet closed, by start.
    public private(set) var openWindows: [Timestamp: Window]

    /// The stream time at which the oldest open window closes (its end plus grace); nil when
    /// none is open. Ops alert when the clock is far past it (a day that does not close).
    public var oldestOpenWindowClosesAt: Timestamp? {
        openWindows.values.min { $0.start < $1.start }.map { $0.end + grace }
    }
    /// The latest end of any window closed so far. Every window ending at or before it is
    /// closed, whatever the grace period is now: a longer grace after a restart must never
    /// reopen a window whose results were already emitted.
    public private(set) var closedThrough: Timestamp?

    /// Where an event belongs.
    public enum Placement: Hashable, Sendable {
        /// The event's window is open; `opened` is true if this event opened it.
        case onTime(Window, opened: Bool)
        /// The event's window had already closed: record it as late, never merge it.
        case late(Window)
    }

    /// - Parameters:
    ///   - streamTime: the persisted stream time, so a restart resumes where it left off.
    ///   - openWindows: the persisted open windows.
    ///   - closedThrough: the latest end of a window already closed (persisted).
    ///
    /// After building an engine from persisted state, call ``closeDue()`` first: windows that
    /// are due at the persisted stream time close there.
    public init(
        calendar: WindowCalendar,
        grace: Duration,
        streamTime: Timestamp? = nil,
        openWindows: [Window] = [],
        closedThrough: Timestamp? = nil
    ) {
        self.calendar = calendar
        self.grace = grace
        self.streamTime = streamTime
        self.closedThrough = closedThrough
        self.openWindows = Dictionary(openWindows.map { ($0.start, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The stream time at which `window` closes.
    public func closeTime(of window: Window) -> Timestamp { window.end + grace }

    /// Whether `window` is closed at the current stream time.
    public func isClosed(_ window: Window) -> Bool {
        if let closedThrough, window.end <= closedThrough { return true }
        guard let streamTime else { return false }
        return streamTime >= closeTime(of: window)
    }

    /// Finds the window of an event at `time`, opening it if needed. Does not move stream time.
    public mutating func place(_ time: Timestamp) -> Placement {
        let window = calendar.window(containing: time)
        if openWindows[window.start] != nil { return .onTime(window, opened: false) }
        if isClosed(window) { return .late(window) }
        openWindows[window.start] = window
        return .onTime(window, opened: true)
    }

    /// Moves stream time to `time` if it is later, and closes every window that became due.
    ///
    /// - Returns: the windows closed by this call, oldest first. Each is returned exactly once.
    public mutating func advance(to time: Timestamp) -> [Window] {
        if let streamTime, streamTime >= time {
            return []
        }
        streamTime = time
        return closeDue()
    }

    /// Closes every open window already due at the current stream time. Called at start-up so
    /// that a restart closes what is due without waiting for new data.
    public mutating func closeDue() -> [Window] {
        guard let streamTime else { return [] }
        let due = openWindows.values.filter { streamTime >= closeTime(of: $0) }.sorted()
        for window in due {
            openWindows[window.start] = nil
            closedThrough = max(closedThrough ?? window.end, window.end)
        }
        return due
    }

    /// The open windows, oldest first.
    public var openWindowsInOrder: [Window] { openWindows.values.sorted() }
}
