/// A tumbling window `[start, end)`.
public struct Window: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var start: Timestamp
    public var end: Timestamp

    public init(start: Timestamp, end: Timestamp) {
        self.start = start
        self.end = end
    }

    public func contains(_ time: Timestamp) -> Bool { start <= time && time < end }

    public static func < (lhs: Window, rhs: Window) -> Bool { (lhs.start, lhs.end) < (rhs.start, rhs.end) }

    public var description: String { "[\(start), \(end))" }
}
