import PostgresReplication

/// Tells a report's reader why rows are missing: the asked-for range has not closed yet,
/// when it will, and whether heartbeats are arriving to close it.
enum ReportNotice {
    static func text(_ request: Report.Request, range: (from: String, to: String), _ connection: PostgresConnection)
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
                   (SELECT count(*) FROM daybook.windows w WHERE w.slot_name = c.slot_name AND w.status = 'open'
                       AND w.window_start >= $3::timestamptz AND w.window_start < coalesce($2::timestamptz, 'infinity')),
                   (SELECT to_char(min(w.closes_at), '\(format)') FROM daybook.windows w
                     WHERE w.slot_name = c.slot_name AND w.status = 'open'
                       AND w.window_start >= $3::timestamptz AND w.window_start < coalesce($2::timestamptz, 'infinity')),
                   to_char($3::timestamptz, 'YYYY-MM-DD')
              FROM daybook.checkpoint c
             WHERE $1::text IS NULL OR c.slot_name = $1
             ORDER BY c.stream_time NULLS FIRST LIMIT 1
            """, [request.slot, rangeEnd, range.from]
        ).rows.first
        guard let row else {
            return "nothing has been summarised\(request.slot.map { " for slot \($0)" } ?? "") yet: is `daybook run` running?"
        }
        let heartbeat =
            row[4].map { "the last heartbeat reached the stream \($0) ago" }
            ?? "no heartbeat has reached the stream yet (install cron/daybook.crontab, or run with --heartbeat-every)"
        let streamTime = row[1].map { "stream time is \($0)" } ?? "no stream time yet"
        if rangeEnd != nil {
            guard row[3] != "t" else { return nil }
            let what = request.date.map { "the day \(row[7] ?? $0)" } ?? "the range"
            return "\(what) is not closed yet: it closes when stream time reaches \(row[2] ?? "?"); \(streamTime); \(heartbeat)"
        }
        guard let open = Int(row[5] ?? "0"), open > 0 else { return nil }
        return "\(open) window\(open == 1 ? " is" : "s are") still open and not shown (--include-open shows them); "
            + "the oldest closes when stream time reaches \(row[6] ?? "?"); \(streamTime); \(heartbeat)"
    }
}
