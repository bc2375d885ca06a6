import DaybookCore
import PostgresReplication

/// Tells a report's reader why rows are missing: the asked-for range has not closed yet,
/// when it will, and whether heartbeats are arriving to close it.
enum ReportNotice {
    /// Says that windows of the range were pruned (`daybook prune`), and what of them is gone:
    /// a pruned day is not a day without changes.
    static func pruned(
        _ request: Report.Request,
        range: (from: String, to: String),
        _ connection: PostgresConnection
    )
        throws(PostgresError) -> String?
    {
        let perKey = request.keys || request.top != nil || request.events
        let row = try connection.query(
            """
            SELECT count(*), to_char(min(window_start), 'YYYY-MM-DD'), to_char(max(window_start), 'YYYY-MM-DD'),
                   to_char(max(pruned_at), 'YYYY-MM-DD'), bool_or(pruned = 'all')
              FROM daybook.windows
             WHERE ($1::text IS NULL OR slot_name = $1) AND window_start >= $2::timestamptz
               AND window_start < $3::timestamptz AND (pruned = 'all' OR ($4::boolean AND pruned IS NOT NULL))
            """,
            [request.slot, range.from, range.to, perKey ? "true" : "false"]
        ).rows.first
        guard let count = row?[0].flatMap({ Int($0) }), count > 0 else { return nil }
        let days = row?[1] == row?[2] ? row?[1] ?? "?" : "\(row?[1] ?? "?") to \(row?[2] ?? "?")"
        let what = row?[4] == "t" ? "all results" : "the per-key results (the per-table summaries remain)"
        return
            "\(count) window\(count == 1 ? "" : "s") (\(days)) \(count == 1 ? "was" : "were") pruned on \(row?[3] ?? "?") "
            + "by daybook prune: \(what) of \(count == 1 ? "it is" : "them are") gone, not empty"
    }

    /// For `--events`: which columns of the range's `values` tables were hashed, masked or not
    /// kept, by which rules (when each was set), so that a reader knows what the values are.
    static func protectedValues(
        _ request: Report.Request,
        range: (from: String, to: String),
        _ connection: PostgresConnection
    )
        throws(PostgresError) -> String?
    {
        guard request.events else { return nil }
        let rules = try connection.query(
            """
            SELECT c.table_name, to_char(c.set_at, '\(Report.windowFormat)'), array_to_string(c.hashed_columns, ', '),
                   array_to_string(c.masked_columns, ', '), array_to_string(c.excluded_columns, ', '), c.key_id
              FROM daybook.capture c
             WHERE ($1::text IS NULL OR c.slot_name = $1) AND ($4::text IS NULL OR c.table_name = $4)
               AND c.level = 'values' AND c.set_at < $3::timestamptz
               AND (c.set_at >= $2::timestamptz
                    OR c.set_at = (SELECT max(p.set_at) FROM daybook.capture p
                                    WHERE p.slot_name = c.slot_name AND p.table_name = c.table_name
                                      AND p.set_at < $2::timestamptz))
               AND cardinality(c.hashed_columns) + cardinality(c.masked_columns) + cardinality(c.excluded_columns) > 0
             ORDER BY c.table_name, c.set_at
            """,
            [request.slot, range.from, range.to, request.table]
        ).rows
        guard !rules.isEmpty else { return nil }
        return rules.map { row in
            let parts = [
                row[2].flatMap { $0.isEmpty ? nil : "\($0) hashed (key \(row[5] ?? "?"))" },
                row[3].flatMap { $0.isEmpty ? nil : "\($0) masked" },
                row[4].flatMap { $0.isEmpty ? nil : "\($0) not kept" },
            ].compactMap { $0 }
            return "values of \(row[0] ?? "?"): \(parts.joined(separator: ", ")), by the rule set \(row[1] ?? "?")"
        }.joined(separator: "; ")
    }

    static func text(
        _ request: Report.Request,
        range: (from: String, to: String),
        _ connection: PostgresConnection
    )
        throws(PostgresError) -> String?
    {
        let format = Report.windowFormat
        let rangeEnd = range.to == "infinity" ? nil : range.to
        let row = try connection.query(
            """
            SELECT c.slot_name, to_char(c.stream_time, '\(format)'),
                   to_char($2::timestamptz + c.grace, '\(format)'),
                   c.stream_time IS NOT NULL AND c.stream_time >= $2::timestamptz + c.grace,
                   date_trunc('second', now() - c.last_heartbeat_at)::text,
                   (SELECT count(*) FROM daybook.windows w WHERE w.slot_name = c.slot_name AND w.status <> 'closed'
                       AND w.window_start >= $3::timestamptz AND w.window_start < coalesce($2::timestamptz, 'infinity')),
                   (SELECT to_char(min(w.closes_at), '\(format)') FROM daybook.windows w
                     WHERE w.slot_name = c.slot_name AND w.status <> 'closed'
                       AND w.window_start >= $3::timestamptz AND w.window_start < coalesce($2::timestamptz, 'infinity')),
                   to_char($3::timestamptz, 'YYYY-MM-DD')
              FROM daybook.checkpoint c
             WHERE $1::text IS NULL OR c.slot_name = $1
             ORDER BY c.stream_time NULLS FIRST LIMIT 1
            """,
            [request.slot, rangeEnd, range.from]
        ).rows.first
        guard let row else {
            return
                "nothing has been summarised\(request.slot.map { " for slot \($0)" } ?? "") yet: is `daybook run` running?"
        }
        let heartbeat =
            row[4].map { "the last heartbeat reached the stream \(HumanDuration.text(interval: $0) ?? $0) ago" }
            ?? "no heartbeat has reached the stream yet (install cron/daybook.crontab, or run with --heartbeat-every)"
        let streamTime = row[1].map { "stream time is \($0)" } ?? "no stream time yet"
        if rangeEnd != nil {
            guard row[3] != "t" else { return nil }
            let what = request.date.map { "the day \(row[7] ?? $0)" } ?? "the range"
            return
                "\(what) is not closed yet: it closes when stream time reaches \(row[2] ?? "?"); \(streamTime); \(heartbeat)"
        }
        guard let open = Int(row[5] ?? "0"), open > 0 else { return nil }
        return "\(open) window\(open == 1 ? " is" : "s are") still open and not shown (--include-open shows them); "
            + "the oldest closes when stream time reaches \(row[6] ?? "?"); \(streamTime); \(heartbeat)"
    }
}
