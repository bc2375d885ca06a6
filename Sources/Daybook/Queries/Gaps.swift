import PostgresReplication
import WAL

/// A gap the operator accepted (`run --accept-gap`): commits the sink lost after the slot had
/// confirmed them, which cannot be read again. Windows whose time it overlaps may miss changes.
///
/// Reports, the API, the dashboard and `status` show the same object, encoded by ``DaybookJSON``.
public struct Gap: Sendable, Codable, Equatable {
    public var slot: String
    /// The sink's checkpoint when the gap was found: the changes after it are missing…
    public var fromLsn: String
    /// …up to the slot's confirmed position then.
    public var toLsn: String
    /// The lost commits were committed after this (the checkpoint's stream time; nil when
    /// the sink had none)…
    public var fromTime: String?
    /// …and at or before this: the first commit read after the gap, or until it is read, the
    /// source's clock when the gap was accepted (``untilFirstCommit`` says which).
    public var untilTime: String
    public var untilFirstCommit: Bool
    public var recordedAt: String

    /// What a reader of an affected window should know, in one sentence.
    public var sentence: String {
        "the windows from \(fromTime ?? "the start") to \(untilTime) may be incomplete: the sink lost the commits between "
            + "LSN \(fromLsn) and \(toLsn) (restored from a backup or failed over), which cannot be read again; "
            + "recorded \(recordedAt) by daybook run --accept-gap"
    }
}

/// Reads the recorded gaps (migration 011).
public enum Gaps {
    private static let format = Report.windowFormat

    /// `$1` a slot (NULL: all), `$2`/`$3` a report's range (of window starts): the gaps whose
    /// time span overlaps it, or overlaps a window that starts in it.
    private static let overlapping = """
        SELECT g.slot_name, g.from_lsn::text, g.to_lsn::text, to_char(g.from_time, '\(format)'),
               to_char(g.until_time, '\(format)'), g.refined, to_char(g.recorded_at, '\(format)')
          FROM daybook.gaps g
         WHERE ($1::text IS NULL OR g.slot_name = $1)
           AND ((coalesce(g.from_time, '-infinity') < $3::timestamptz AND g.until_time >= $2::timestamptz)
                OR EXISTS (SELECT 1 FROM daybook.windows w
                            WHERE w.slot_name = g.slot_name AND w.window_start >= $2::timestamptz
                              AND w.window_start < $3::timestamptz AND w.window_end > coalesce(g.from_time, '-infinity')
                              AND w.window_start <= g.until_time))
         ORDER BY g.slot_name, g.from_lsn
        """

    /// The gaps of `slot` (nil: every slot) that may touch the range `from` to `to` (exclusive),
    /// in the session's time zone.
    public static func touching(
        slot: String?,
        from: String = "-infinity",
        to: String = "infinity",
        _ connection: PostgresConnection
    ) throws(PostgresError) -> [Gap] {
        try connection.query(overlapping, [slot, from, to]).rows.map { row in
            Gap(
                slot: row[0] ?? "?",
                fromLsn: row[1] ?? "?",
                toLsn: row[2] ?? "?",
                fromTime: row[3],
                untilTime: row[4] ?? "?",
                untilFirstCommit: row[5] == "t",
                recordedAt: row[6] ?? "?"
            )
        }
    }

    /// How many gaps the sink holds for `slot` (the `daybook_gaps_total` counter).
    public static func count(slot: String, _ connection: PostgresConnection) throws(PostgresError) -> Int {
        try connection.query("SELECT count(*) FROM daybook.gaps WHERE slot_name = $1", [slot]).scalar.flatMap {
            Int($0)
        } ?? 0
    }

    /// SQL for a window (alias `w`) that a gap of its slot may touch: it ends after the gap's
    /// first possible commit and starts at or before its last.
    static let windowTouched = """
        EXISTS (SELECT 1 FROM daybook.gaps g WHERE g.slot_name = w.slot_name
                   AND w.window_end > coalesce(g.from_time, '-infinity') AND w.window_start <= g.until_time)
        """
}
