import DaybookCore
import PostgresReplication

/// How far the slot's confirmed position trails the source's WAL, read on the source, with
/// the source's clock: `serve`'s lag chart has no stream of its own to ask.
struct SlotLag {
    /// The source's clock, Unix seconds.
    var clock: Double
    /// WAL written but not yet confirmed by the slot.
    var bytes: Double

    /// The slot's lag, or nil when the source has no such slot.
    static func read(_ source: PostgresConnection, slot: String) throws(DaybookError) -> SlotLag? {
        try DaybookError.mapping(role: .source) {
            guard
                let row = try source.query(
                    """
                    SELECT pg_wal_lsn_diff(\(WALPositionSQL.current), confirmed_flush_lsn)::float8::text,
                           extract(epoch FROM clock_timestamp())::float8::text
                      FROM pg_replication_slots WHERE slot_name = $1
                    """,
                    [slot]
                ).rows.first, let bytes = row[0].flatMap(Double.init), let clock = row[1].flatMap(Double.init)
            else { return nil }
            return SlotLag(clock: clock, bytes: bytes)
        }
    }
}
