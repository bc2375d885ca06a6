import PgOutput
import Windowing

extension Timestamp {
    /// The latest instant Daybook places in a window: 9999-12-31T23:59:59.999999Z.
    static let latestSupported = Timestamp(microsecondsSinceEpoch: 253_402_300_799_999_999)
    /// The earliest: 0001-01-01T00:00:00Z.
    static let earliestSupported = Timestamp(microsecondsSinceEpoch: -62_135_596_800_000_000)

    /// A PostgreSQL timestamp (microseconds since 2000-01-01) as a Unix one, clamped to the
    /// years 1 to 9999. A commit time comes from the server's clock, so anything outside is
    /// corrupt data; it must neither overflow the epoch shift nor take calendar arithmetic
    /// somewhere it traps, since the service must never stop on a value from the server.
    init(postgresMicroseconds: Int64) {
        let (shifted, overflow) = postgresMicroseconds.addingReportingOverflow(postgresEpochOffsetMicroseconds)
        let value = overflow ? (postgresMicroseconds > 0 ? Int64.max : Int64.min) : shifted
        self.init(
            microsecondsSinceEpoch: min(
                max(value, Self.earliestSupported.microsecondsSinceEpoch),
                Self.latestSupported.microsecondsSinceEpoch
            )
        )
    }
}
