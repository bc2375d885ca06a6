/// How long each tumbling window is.
///
/// Whole days are aligned to local midnight in the configured time zone, so a window is one
/// calendar day even when that day has 23 or 25 hours. Shorter windows (for tests and demos)
/// must divide a day evenly and are aligned to local midnight as well.
public struct WindowLength: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        case days(Int)
        case seconds(Int64)
    }

    public let kind: Kind

    /// Why a window length cannot be used.
    public struct InvalidLength: Error, CustomStringConvertible {
        public let seconds: Int64
        public var description: String {
            "a window of \(seconds)s does not tile a day: use whole days, or a length that divides 24h evenly "
                + "(for example 1s, 2s, 5s, 1m, 15m, 1h, 6h)"
        }
    }

    public static func days(_ count: Int) -> WindowLength { WindowLength(kind: .days(max(count, 1))) }

    /// Only the validating initialisers build lengths, so a zero or negative length (which
    /// would divide by zero in ``WindowCalendar``) cannot exist.
    private init(kind: Kind) { self.kind = kind }

    /// Builds a length from a number of seconds, choosing days when it is a whole number of them.
    public init(seconds: Int64) throws(InvalidLength) {
        guard seconds > 0 else { throw InvalidLength(seconds: seconds) }
        if seconds % 86_400 == 0 {
            kind = .days(Int(seconds / 86_400))
        } else if 86_400 % seconds == 0 {
            kind = .seconds(seconds)
        } else {
            throw InvalidLength(seconds: seconds)
        }
    }

    /// The nominal length in seconds (a DST day is still counted as 86 400 here).
    public var nominalSeconds: Int64 {
        switch kind {
        case .days(let days): Int64(days) * 86_400
        case .seconds(let seconds): seconds
        }
    }

    public var description: String {
        switch kind {
        case .days(let days): "\(days)d"
        case .seconds(let seconds): "\(seconds)s"
        }
    }
}
