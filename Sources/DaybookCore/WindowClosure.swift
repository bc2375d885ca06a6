import Windowing

/// What moved stream time past a window's close time.
public enum CloseReason: String, Sendable {
    /// A transaction with real changes.
    case data
    /// A heartbeat transaction (the fake update) with no real changes.
    case heartbeat
    /// The persisted stream time, when the service started.
    case startup
    /// The server's clock while the stream was fully caught up (`--idle-watermark`).
    case idle
}

/// A window that closed, and why: written to the sink with the checkpoint that closes it.
public struct WindowClosure: Hashable, Sendable {
    public var window: Window
    public var reason: CloseReason
    public var streamTime: Timestamp

    public init(window: Window, reason: CloseReason, streamTime: Timestamp) {
        self.window = window
        self.reason = reason
        self.streamTime = streamTime
    }
}
