/// The query behind `daybook report --events`: one JSON object per key of a closed window of
/// a `values` table, built by the sink in the report's contract shape so that every output
/// format (and later the HTTP API) reads the same objects.
///
/// Parameters as for the other reports: `$1` slot (NULL for all), `$2`/`$3` the range of
/// window starts, `$4` a table (NULL for all), `$5` one key (a JSON object; NULL for all).
enum EventReportSQL {
    /// All keys: events are grouped per key in one pass over the chosen windows' partitions
    /// and joined to their keys by hash on Daybook's key text (`key_changes.key` and
    /// `value_events.key` are written alike); every table is filtered on the range itself, so
    /// `key_values` (not partitioned) is read for the range only. A whole-range statement
    /// (``ReportStatement/Reads/wholeRange``): never a nested loop, which on a fresh day's
    /// missing statistics aggregated every event once per key. One key (`oneKey`, with `$4`
    /// and `$5`, an index-bounded statement): found through the closed window's index on
    /// `key::jsonb`, its events through theirs (migration 007), in milliseconds whatever the
    /// size of the day and whatever the statistics.
    static func query(windowFormat: String, changeFormat: String, oneKey: Bool) -> String {
        let eventsAggregate = """
            json_agg(jsonb_build_object('op', e.op, 'at', to_char(e.commit_time, '\(changeFormat)'),
                                                   'lsn', e.lsn::text, 'row', e.new_row::jsonb)
                                || CASE WHEN e.old_key IS NULL THEN '{}' ELSE jsonb_build_object('old_key', e.old_key::jsonb) END
                                || CASE WHEN e.new_key IS NULL THEN '{}' ELSE jsonb_build_object('new_key', e.new_key::jsonb) END
                                || CASE WHEN e.old_row IS NULL THEN '{}' ELSE jsonb_build_object('old_row', e.old_row::jsonb) END
                                || CASE WHEN e.unchanged IS NULL THEN '{}'
                                        ELSE jsonb_build_object('unchanged', e.unchanged::jsonb) END
                                || CASE WHEN e.actor IS NULL THEN '{}' ELSE jsonb_build_object('actor', e.actor::jsonb) END
                                ORDER BY e.lsn, e.seq)
            """
        // One key: its events looked up where the key is, through the window's index on
        // (slot, table, key), whatever the statistics (a join let the planner read the day's
        // events by table and match them against the key: 0.7 s for 300,000 keys).
        let oneKeyEvents = """
            LEFT JOIN LATERAL (SELECT \(eventsAggregate) AS events FROM daybook.value_events e
                                WHERE e.slot_name = c.slot_name AND e.window_start = c.window_start
                                  AND e.table_name = c.table_name AND e.key = c.key) ev ON true
            """
        // All keys: every event of the range grouped once, joined to its key by hash.
        let allEventsCTE = """
            , events AS (
                SELECT e.slot_name, e.window_start, e.table_name, e.key, \(eventsAggregate) AS events
                  FROM daybook.value_events e JOIN chosen USING (slot_name, window_start)
                 WHERE e.window_start >= $2::timestamptz AND e.window_start < $3::timestamptz
                   AND ($4::text IS NULL OR e.table_name = $4)
                 GROUP BY e.slot_name, e.window_start, e.table_name, e.key
            )
            """
        let allEvents = """
            LEFT JOIN events ev
              ON ev.slot_name = c.slot_name AND ev.window_start = c.window_start AND ev.table_name = c.table_name
             AND ev.key = c.key
            """
        // One key: found by constants alone, through the window's index on key::jsonb; the
        // subquery is kept apart from the windows (OFFSET 0) so that the planner cannot make the
        // window a parameter and read the day by the page index instead, filtering every key
        // (0.3 s for 300,000 keys without statistics).
        let keySource =
            oneKey
            ? """
            (SELECT * FROM daybook.key_changes c
              WHERE ($1::text IS NULL OR c.slot_name = $1) AND c.window_start >= $2::timestamptz
                AND c.window_start < $3::timestamptz AND c.table_name = $4 AND c.key::jsonb = $5::jsonb
             OFFSET 0) c
            """
            : "daybook.key_changes c"
        let keyFilter = oneKey ? "" : "AND ($4::text IS NULL OR c.table_name = $4) AND $5::jsonb IS NULL"
        return """
            WITH chosen AS (
                SELECT w.slot_name, w.window_start, w.window_end
                  FROM daybook.windows w
                 WHERE ($1::text IS NULL OR w.slot_name = $1) AND w.status = 'closed'
                   AND w.window_start >= $2::timestamptz AND w.window_start < $3::timestamptz
            ), keys AS (
                SELECT c.slot_name, c.window_start, w.window_end, c.table_name, c.key, c.ops, c.first_change_at, c.last_change_at
                  FROM chosen w
                  JOIN \(keySource) USING (slot_name, window_start)
                 WHERE c.window_start >= $2::timestamptz AND c.window_start < $3::timestamptz \(keyFilter)
            )\(oneKey ? "" : allEventsCTE)
            SELECT json_build_object(
                       'window_start', to_char(c.window_start, '\(windowFormat)'),
                       'window_end', to_char(c.window_end, '\(windowFormat)'),
                       'table', c.table_name, 'key', v.key, 'ops', c.ops, 'net', daybook.net_effect(c.ops),
                       'first_change_at', to_char(c.first_change_at, '\(changeFormat)'),
                       'last_change_at', to_char(c.last_change_at, '\(changeFormat)'),
                       'before', v.before_image, 'changed', v.changed,
                       'truncated', v.truncated > 0, 'events_left_out', v.truncated,
                       'events', coalesce(ev.events, '[]')
                   )::text
              FROM keys c
              JOIN daybook.key_values v
                ON v.slot_name = c.slot_name AND v.window_start = c.window_start AND v.table_name = c.table_name
               AND v.key = c.key::jsonb AND v.window_start >= $2::timestamptz AND v.window_start < $3::timestamptz
              \(oneKey ? oneKeyEvents : allEvents)
             ORDER BY c.window_start, c.table_name, c.first_change_at, v.key
            """
    }
}
