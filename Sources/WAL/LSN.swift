/// A WAL position (log sequence number), written by PostgreSQL as two hex halves `HI/LO`.
///
/// Daybook orders, deduplicates and checkpoints by LSN, never by time, because LSNs of
/// successive commits strictly increase while commit timestamps may not.
public struct LSN: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

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

    public var description: String {
        String(rawValue >> 32, radix: 16, uppercase: true) + "/"
            + String(rawValue & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    public static func < (lhs: LSN, rhs: LSN) -> Bool { lhs.rawValue < rhs.rawValue }
}
