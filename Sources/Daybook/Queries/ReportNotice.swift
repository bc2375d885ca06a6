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
            row[4].map { "the last heartbeat reached the stream \($0) ago" }
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
