import PostgresReplication

/// `daybook status`: the slot, the checkpoint, the open windows and when each will close,
/// and the heartbeats — what an operator asks when yesterday's summary is not there yet.
public struct StatusReport: Sendable {
    /// How often heartbeats are expected; older than twice this is a warning.
    public var heartbeatInterval: Duration = .seconds(300)
    /// Retained WAL above this many bytes is a warning.
    public var maxRetainedWAL: Int64 = 1 << 30
    /// The publication that must carry `daybook.heartbeat`.
    public var publication = "daybook"
    public var slot: String

    public init(slot: String) { self.slot = slot }

    private static let format = Report.windowFormat

    /// Collects the status as readable lines, warnings last. The source connection is
    /// optional, so that the sink's view still works when the source is down.
    public func lines(source: Result<PostgresConnection, DaybookError>, sink: PostgresConnection) throws(DaybookError) -> [String] {
        try DaybookError.mapping(role: "sink") {
            var lines: [String] = []
            var warnings: [String] = []
            let format = Self.format
            let checkpoint = try sink.query(
                """
                SELECT lsn::text, to_char(stream_time, '\(format)'), to_char(updated_at, '\(format)'),
                       window_length, grace::text, time_zone, to_char(last_heartbeat_at, '\(format)'),
                       date_trunc('second', now() - last_heartbeat_at)::text,
                       extract(epoch FROM now() - last_heartbeat_at) > $2::float8
                  FROM daybook.checkpoint WHERE slot_name = $1
                """, [slot, String(Double(heartbeatInterval.components.seconds) * 2)]
            ).rows.first
            if let zone = checkpoint?[5] { try sink.query("SELECT set_config('TimeZone', $1, false)", [zone]) }
            var tableHeartbeatIsRecent = false
            lines += try slotLines(source, warnings: &warnings, tableHeartbeatIsRecent: &tableHeartbeatIsRecent)
            if let checkpoint, checkpoint[0] != "0/0" || checkpoint[1] != nil {
                lines.append(
                    "checkpoint: LSN \(checkpoint[0] ?? "?"), written \(checkpoint[2] ?? "?"); stream time \(checkpoint[1] ?? "none")")
                lines.append("windows: \(checkpoint[3] ?? "?") in \(checkpoint[5] ?? "?"), grace \(checkpoint[4] ?? "?")")
                if let at = checkpoint[6] {
                    lines.append("last heartbeat in the stream: \(at) (\(checkpoint[7] ?? "?") ago)")
                    if checkpoint[8] == "t" && tableHeartbeatIsRecent {
                        warnings.append(
                            "warning: heartbeats are being written but none has reached the stream for "
                                + "\(checkpoint[7] ?? "?"): is `daybook run` running and keeping up?")
                    } else if checkpoint[8] == "t" {
                        warnings.append(
                            "warning: no heartbeat has reached the stream for \(checkpoint[7] ?? "?") (expected every "
                                + "\(DurationText.format(seconds: heartbeatInterval.components.seconds))): check cron (cron/daybook.crontab), or run with --heartbeat-every")
                    }
                } else {
                    lines.append("last heartbeat in the stream: none yet")
                    warnings.append(
                        "warning: no heartbeat has reached the stream yet: install cron/daybook.crontab, or run with "
                            + "--heartbeat-every, or quiet days will not close")
                }
            } else {
                lines.append("checkpoint: none yet for slot \(slot) (daybook run has not committed anything)")
            }
            let open = try sink.query(
                """
                SELECT to_char(w.window_start, '\(format)'), to_char(w.window_end, '\(format)'),
                       to_char(w.closes_at, '\(format)'), (w.closes_at - c.stream_time)::text
                  FROM daybook.windows w LEFT JOIN daybook.checkpoint c USING (slot_name)
                 WHERE w.slot_name = $1 AND w.status = 'open' ORDER BY w.window_start
                """, [slot])
            lines.append("open windows: \(open.rows.count)")
            for row in open.rows {
                lines.append(
                    "  [\(row[0] ?? "?"), \(row[1] ?? "?")) closes when stream time reaches \(row[2] ?? "?")"
                        + (row[3].map { " (\($0) of stream time from now)" } ?? ""))
            }
            let closed = try sink.query(
                """
                SELECT count(*), to_char(max(window_end), '\(format)') FROM daybook.windows
                 WHERE slot_name = $1 AND status = 'closed'
                """, [slot]
            ).rows.first
            let closing = try sink.query(
                """
                SELECT to_char(window_start, '\(format)'), to_char(window_end, '\(format)'), closed_by
                  FROM daybook.windows WHERE slot_name = $1 AND status = 'closing' ORDER BY window_start
                """, [slot])
            for row in closing.rows {
                lines.append(
                    "closing: [\(row[0] ?? "?"), \(row[1] ?? "?")) closed by \(row[2] ?? "?"); its results are being made final "
                        + "(a running daybook run does it; otherwise the next one)")
            }
            lines.append("closed windows: \(closed?[0] ?? "0")" + (closed?[1].map { ", the last ending \($0)" } ?? ""))
            lines += try CaptureLevels.statusLines(slot: slot, sink)
            return lines + warnings
        }
    }

    /// The source's part. `tableHeartbeatIsRecent` tells whether the heartbeat table was
    /// written within twice the interval, to tell a stopped cron from a stopped service.
    private func slotLines(
        _ source: Result<PostgresConnection, DaybookError>, warnings: inout [String], tableHeartbeatIsRecent: inout Bool
    ) throws -> [String] {
        let connection: PostgresConnection
        switch source {
        case .success(let value): connection = value
        case .failure(let error): return ["source: unavailable (\(error.message))"]
        }
        let format = Self.format
        var lines: [String] = []
        let row = try connection.query(
            """
            SELECT active, active_pid::text, confirmed_flush_lsn::text, wal_status,
                   pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)),
                   pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) > $2::numeric
              FROM pg_replication_slots WHERE slot_name = $1
            """, [slot, String(maxRetainedWAL)]
        ).rows.first
        if let row {
            let activity = row[0] == "t" ? "active (pid \(row[1] ?? "?"))" : "inactive"
            lines.append(
                "slot \(slot): \(activity), confirmed up to \(row[2] ?? "?"), retaining \(row[4] ?? "?") of WAL, "
                    + "wal_status \(row[3] ?? "?")")
            if row[5] == "t" {
                warnings.append(
                    "warning: slot \(slot) retains \(row[4] ?? "?") of WAL; is `daybook run` running and keeping up? "
                        + "(a slot nobody reads keeps WAL forever)")
            }
            if row[3] == "lost" {
                warnings.append("warning: slot \(slot) was invalidated (wal_status lost): recreate it with `daybook setup`")
            }
        } else {
            lines.append("slot \(slot): missing — run `daybook setup --slot \(slot)`")
        }
        let beat = try? connection.query(
            """
            SELECT to_char(beat_at, '\(format)'), date_trunc('second', clock_timestamp() - beat_at)::text, beats,
                   beats > 0 AND extract(epoch FROM clock_timestamp() - beat_at) <= $1::float8
              FROM daybook.heartbeat
            """, [String(Double(heartbeatInterval.components.seconds) * 2)]
        ).rows.first
        tableHeartbeatIsRecent = beat?[3] == "t"
        if let beat, let at = beat[0] {
            lines.append("heartbeat table: last written \(at) (\(beat[1] ?? "?") ago, \(beat[2] ?? "0") in all)")
            if try !SourceChecks.heartbeatIsPublished(connection, publication) {
                warnings.append(
                    "warning: daybook.heartbeat is not in publication \(publication), so table heartbeats never arrive: "
                        + "run `daybook setup --publication \(publication)`")
            }
        } else {
            lines.append("heartbeat table: none (run `daybook setup`, or use `daybook heartbeat --via message`)")
        }
        return lines
    }
}
