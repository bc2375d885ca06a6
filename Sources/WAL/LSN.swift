/// A WAL position (log sequence number), written by PostgreSQL as two hex halves `HI/LO`.
///
/// Daybook orders, deduplicates and checkpoints by LSN, never by time, because LSNs of
/// successive commits strictly increase while commit timestamps may not. Every module speaks
/// of positions with this one type, and its text form (`pg_lsn`'s) is parsed and printed here
/// only, so that a bare `UInt64` can never be mistaken for a count, and a position is never
/// printed two ways.
///
/// `@frozen` and `@inlinable` because it sits on the hot path of every message (the decoder,
/// the change processor, the windowing engine), in other modules: a wrapper the optimizer can
/// see through costs nothing over the `UInt64` it holds.
@frozen
public struct LSN: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
    ExpressibleByIntegerLiteral
{
    public var rawValue: UInt64

    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public init(integerLiteral value: UInt64) { self.rawValue = value }

    /// `0/0`, PostgreSQL's InvalidXLogRecPtr; also "start wherever the slot is".
    public static let zero = LSN(0)

    /// Parses the `HI/LO` text form; returns nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...8).contains(parts[0].count), (1...8).contains(parts[1].count),
            parts.allSatisfy({ $0.allSatisfy(\.isHexDigit) }),
            let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16)
        else { return nil }
        self.rawValue = high << 32 | low
    }

    /// The `HI/LO` text form, as PostgreSQL prints a `pg_lsn`: upper-case hex, no padding.
    public var description: String {
        String(rawValue >> 32, radix: 16, uppercase: true) + "/"
            + String(rawValue & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    /// The bytes of WAL from `earlier` to this position, or 0 when `earlier` is not earlier:
    /// a lag, which a position behind another must not turn into a trap or a huge number.
    @inlinable public func bytes(since earlier: LSN) -> UInt64 {
        rawValue > earlier.rawValue ? rawValue - earlier.rawValue : 0
    }

    /// The position `bytes` further on, saturating at the largest position.
    @inlinable public func advanced(by bytes: UInt64) -> LSN {
        let (sum, overflow) = rawValue.addingReportingOverflow(bytes)
        return LSN(overflow ? .max : sum)
    }

    @inlinable public static func < (lhs: LSN, rhs: LSN) -> Bool { lhs.rawValue < rhs.rawValue }
}
