/// SQL for "how far the server's WAL goes", on a primary or a physical standby alike.
///
/// A standby inserts no WAL (`pg_current_wal_lsn()` fails there): its position is what it has
/// replayed, which is also as far as its walsender can decode. Lag figures, `status` and
/// `--until-caught-up` use these so that they work with a slot on either.
public enum WALPositionSQL {
    /// The WAL written (flushed) on a primary, replayed on a standby.
    public static let current =
        "CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END"
    /// The same with a primary's insert position, so commits not yet flushed are included.
    public static let insert =
        "CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END"
    /// How far the server's WAL can be decoded now: flushed on a primary, replayed on a standby
    /// (what the SQL decoding functions read up to).
    public static let decodable =
        "CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_flush_lsn() END"
}
