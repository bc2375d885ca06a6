/// The query behind `daybook report --events`: one JSON object per key of a closed window of
/// a `values` table, built by the sink in the report's contract shape so that every output
/// format (and later the HTTP API) reads the same objects.
///
/// Parameters as for the other reports: `$1` slot (NULL for all), `$2`/`$3` the range of
/// window starts, `$4` a table (NULL for all).
enum EventReportSQL {
    static func query(windowFormat: String, changeFormat: String) -> String {
        """
        SELECT json_build_object(
                   'window_start', to_char(k.window_start, '\(windowFormat)'),
                   'window_end', to_char(k.window_end, '\(windowFormat)'),
                   'table', k.table_name, 'key', k.key, 'ops', k.ops, 'net', daybook.net_effect(k.ops),
                   'first_change_at', to_char(k.first_change_at, '\(changeFormat)'),
                   'last_change_at', to_char(k.last_change_at, '\(changeFormat)'),
                   'before', v.before_image, 'changed', v.changed,
                   'truncated', v.truncated > 0, 'events_left_out', v.truncated,
                   'events', (
                       SELECT coalesce(json_agg(
                                  jsonb_build_object('op', e.op, 'at', to_char(e.commit_time, '\(changeFormat)'),
                                                     'lsn', e.lsn::text, 'row', e.new_row)
                                  || CASE WHEN e.old_key IS NULL THEN '{}' ELSE jsonb_build_object('old_key', e.old_key) END
                                  || CASE WHEN e.new_key IS NULL THEN '{}' ELSE jsonb_build_object('new_key', e.new_key) END
                                  || CASE WHEN e.old_row IS NULL THEN '{}' ELSE jsonb_build_object('old_row', e.old_row) END
                                  || CASE WHEN e.unchanged IS NULL THEN '{}'
                                          ELSE jsonb_build_object('unchanged', e.unchanged) END
                                  ORDER BY e.lsn, e.seq), '[]')
                         FROM daybook.value_events e
                        WHERE e.slot_name = k.slot_name AND e.window_start = k.window_start
                          AND e.table_name = k.table_name AND e.key = k.key)
               )::text
          FROM daybook.key_windows k
          JOIN daybook.key_values v USING (slot_name, window_start, table_name, key)
          JOIN daybook.windows w USING (slot_name, window_start)
         WHERE ($1::text IS NULL OR k.slot_name = $1)
           AND k.window_start >= $2::timestamptz AND k.window_start < $3::timestamptz
           AND w.status = 'closed' AND ($4::text IS NULL OR k.table_name = $4)
         ORDER BY k.window_start, k.table_name, k.first_change_at, k.key
        """
    }
}
