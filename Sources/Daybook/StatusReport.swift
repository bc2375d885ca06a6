import PostgresReplication

/// `daybook status`: the slot, the checkpoint, the open windows and when each will close,
/// and the last heartbeat — what an operator asks when yesterday's summary is not there yet.
public enum StatusReport {
    private static let format = "YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM"

    /// Collects the status as readable lines. The source connection is optional, so that a
    /// sink-only view still works when the source is down (its part then says why).
    public static func lines(
        source: Result<PostgresConnection, DaybookError>, sink: PostgresConnection, slot: String
    ) throws(DaybookError) -> [String] {
        do {
            var lines: [String] = []
            let checkpoint = try sink.query(
                """
                SELECT lsn::text, to_char(stream_time, '\(format)'), to_char(updated_at, '\(format)'),
                       window_length, grace::text, time_zone
                  FROM daybook.checkpoint WHERE slot_name = $1
                """, [slot]
            ).rows.first
            if let zone = checkpoint?[5] { try sink.query("SELECT set_config('TimeZone', $1, false)", [zone]) }
            lines += try slotLines(source, slot: slot)
            if let checkpoint {
                lines.append(
                    "checkpoint: LSN \(checkpoint[0] ?? "?"), written \(checkpoint[2] ?? "?"); stream time \(checkpoint[1] ?? "none")")
                lines.append("windows: \(checkpoint[3] ?? "?") in \(checkpoint[5] ?? "?"), grace \(checkpoint[4] ?? "?")")
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
            lines.append("closed windows: \(closed?[0] ?? "0")" + (closed?[1].map { ", the last ending \($0)" } ?? ""))
            return lines
        } catch let error as DaybookError {
            throw error
        } catch let error as PostgresError {
            throw DaybookError.from(error, role: "sink")
        } catch {
            throw DaybookError(.query, "\(error)")
        }
    }

    private static func slotLines(_ source: Result<PostgresConnection, DaybookError>, slot: String) throws -> [String] {
        let connection: PostgresConnection
        switch source {
        case .success(let value): connection = value
        case .failure(let error): return ["source: unavailable (\(error.message))"]
        }
        var lines: [String] = []
        let row = try connection.query(
            """
            SELECT active, active_pid::text, confirmed_flush_lsn::text, wal_status,
                   pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn))
              FROM pg_replication_slots WHERE slot_name = $1
            """, [slot]
        ).rows.first
        if let row {
            let activity = row[0] == "t" ? "active (pid \(row[1] ?? "?"))" : "inactive"
            lines.append(
                "slot \(slot): \(activity), confirmed up to \(row[2] ?? "?"), retaining \(row[4] ?? "?") of WAL, "
                    + "wal_status \(row[3] ?? "?")")
        } else {
            lines.append("slot \(slot): missing — run `daybook setup --slot \(slot)`")
        }
        let beat = try? connection.query(
            """
            SELECT to_char(beat_at, '\(format)'), date_trunc('second', clock_timestamp() - beat_at)::text, beats
              FROM daybook.heartbeat
            """
        ).rows.first
        if let beat, let at = beat[0] {
            lines.append("last heartbeat: \(at) (\(beat[1] ?? "?") ago, \(beat[2] ?? "0") in all)")
        } else {
            lines.append("last heartbeat: none (no daybook.heartbeat table: run `daybook setup`)")
        }
        return lines
    }
}
