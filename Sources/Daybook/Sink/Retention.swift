import PostgresReplication

/// `daybook prune` and `run --prune-keep`: removes old closed windows' results from the sink.
///
/// Per-key rows (`key_windows`, `key_values`, `value_events`) are what grows with a database's
/// size; the per-table summaries are small and are kept unless `all` is asked for. A pruned
/// window keeps its `windows` row, marked, so that a report for that day says it was pruned
/// instead of "no changes". Open windows are never touched.
public enum Retention {
    /// What one prune removed.
    public struct Result: Sendable, Equatable {
        public var windows: Int
        public var keyRows: Int
        public var events: Int
        public var tableRows: Int
    }

    static let pruneSQL = """
        WITH old AS (
            UPDATE daybook.windows w
               SET pruned = CASE WHEN $3::boolean THEN 'all' ELSE 'keys' END, pruned_at = now()
             WHERE ($1::text IS NULL OR w.slot_name = $1) AND w.status = 'closed'
               AND w.window_end <= now() - $2::interval
               AND (w.pruned IS NULL OR ($3::boolean AND w.pruned <> 'all'))
            RETURNING w.slot_name, w.window_start
        ), key_values AS (
            DELETE FROM daybook.key_values x USING old
             WHERE x.slot_name = old.slot_name AND x.window_start = old.window_start RETURNING 1
        ), tables AS (
            DELETE FROM daybook.table_windows x USING old
             WHERE $3::boolean AND x.slot_name = old.slot_name AND x.window_start = old.window_start RETURNING 1
        ), late AS (
            DELETE FROM daybook.late_changes x USING old
             WHERE $3::boolean AND x.slot_name = old.slot_name AND x.window_start = old.window_start RETURNING 1
        ), actors AS (
            DELETE FROM daybook.actor_windows x USING old
             WHERE $3::boolean AND x.slot_name = old.slot_name AND x.window_start = old.window_start RETURNING 1
        )
        SELECT o.slot_name, daybook.to_micros(o.window_start), 0,
               (SELECT count(*) FROM tables), (SELECT count(*) FROM key_values), (SELECT count(*) FROM late),
               (SELECT count(*) FROM actors)
          FROM old o
        """

    /// One pruned window's rows of `table` (`key_changes` or `value_events`): one partition,
    /// found by the constant window start.
    static func prunePartitionSQL(_ table: String) -> String {
        "DELETE FROM daybook.\(table) WHERE slot_name = $1 AND window_start = daybook.from_micros($2::bigint)"
    }

    /// Prunes closed windows that ended more than `keep` ago (wall clock). Call it inside a
    /// transaction: it is one statement for the windows, events and summaries, then one per
    /// pruned window for its per-key rows.
    ///
    /// - Parameters:
    ///   - slot: only this slot's windows; nil for every slot in the sink.
    ///   - all: also the per-table summaries and late changes.
    public static func prune(
        keep: Duration,
        all: Bool,
        slot: String?,
        _ sink: PostgresConnection
    ) throws(PostgresError) -> Result {
        let pruned = try sink.query(pruneSQL, [slot, "\(keep.components.seconds) seconds", all ? "true" : "false"]).rows
        func number(_ index: Int) -> Int { pruned.first?[index].flatMap { Int($0) } ?? 0 }
        var keyRows = 0
        var events = 0
        for window in pruned {
            keyRows += try sink.query(prunePartitionSQL("key_changes"), [window[0], window[1]]).affectedRows
            events += try sink.query(prunePartitionSQL("value_events"), [window[0], window[1]]).affectedRows
        }
        return Result(windows: pruned.count, keyRows: keyRows, events: events, tableRows: number(3))
    }
}
