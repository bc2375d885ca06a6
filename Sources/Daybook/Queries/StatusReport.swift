import DaybookCore
import PostgresReplication
import WAL

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
    public func lines(
        source: Result<PostgresConnection, DaybookError>,
        sink: PostgresConnection
    ) throws(DaybookError) -> [String] {
        Self.lines(of: try collect(source: source, sink: sink))
    }

    /// Collects the status as values (for `--format json` and the HTTP API).
    public func collect(
        source: Result<PostgresConnection, DaybookError>,
        sink: PostgresConnection
    ) throws(DaybookError) -> Status {
        try DaybookError.mapping(role: .sink) {
            var status = Status(slot: slot)
            let format = Self.format
            let checkpoint = try sink.query(
                """
                SELECT lsn::text, to_char(stream_time, '\(format)'), to_char(updated_at, '\(format)'),
                       window_length, grace::text, time_zone, to_char(last_heartbeat_at, '\(format)'),
                       date_trunc('second', now() - last_heartbeat_at)::text,
                       extract(epoch FROM now() - last_heartbeat_at) > $2::float8
                  FROM daybook.checkpoint WHERE slot_name = $1
                """,
                [slot, String(Double(heartbeatInterval.components.seconds) * 2)]
            ).rows.first
            if let zone = checkpoint?[5] { try sink.query("SELECT set_config('TimeZone', $1, false)", [zone]) }
            var tableHeartbeatIsRecent = false
            try collectSource(source, into: &status, tableHeartbeatIsRecent: &tableHeartbeatIsRecent)
            if let checkpoint, checkpoint[0] != "0/0" || checkpoint[1] != nil {
                status.checkpoint = Status.Checkpoint(
                    lsn: checkpoint[0] ?? "0/0",
                    writtenAt: checkpoint[2],
                    streamTime: checkpoint[1],
                    windowLength: checkpoint[3] ?? "?",
                    grace: checkpoint[4] ?? "?",
                    timeZone: checkpoint[5] ?? "?",
                    lastHeartbeatAt: checkpoint[6],
                    lastHeartbeatAge: checkpoint[6] == nil ? nil : checkpoint[7]
                )
                if checkpoint[6] != nil {
                    if checkpoint[8] == "t" && tableHeartbeatIsRecent {
                        status.warnings.append(
                            "warning: heartbeats are being written but none has reached the stream for "
                                + "\(Self.human(checkpoint[7])): is `daybook run` running and keeping up?"
                        )
                    } else if checkpoint[8] == "t" {
                        status.warnings.append(
                            "warning: no heartbeat has reached the stream for \(Self.human(checkpoint[7])) (expected every "
                                + "\(HumanDuration.text(seconds: Double(heartbeatInterval.components.seconds)))): check cron (cron/daybook.crontab), or run with --heartbeat-every"
                        )
                    }
                } else {
                    status.warnings.append(
                        "warning: no heartbeat has reached the stream yet: install cron/daybook.crontab, or run with "
                            + "--heartbeat-every, or quiet days will not close"
                    )
                }
            }
            status.openWindows = try sink.query(
                """
                SELECT to_char(w.window_start, '\(format)'), to_char(w.window_end, '\(format)'),
                       to_char(w.closes_at, '\(format)'), (w.closes_at - c.stream_time)::text
                  FROM daybook.windows w LEFT JOIN daybook.checkpoint c USING (slot_name)
                 WHERE w.slot_name = $1 AND w.status = 'open' ORDER BY w.window_start
                """,
                [slot]
            ).rows.map { row in
                Status.OpenWindow(
                    windowStart: row[0] ?? "?",
                    windowEnd: row[1] ?? "?",
                    closesAt: row[2] ?? "?",
                    streamTimeUntilClose: row[3]
                )
            }
            let closed = try sink.query(
                """
                SELECT count(*), to_char(max(window_end), '\(format)') FROM daybook.windows
                 WHERE slot_name = $1 AND status = 'closed'
                """,
                [slot]
            ).rows.first
            status.closedWindows = closed?[0].flatMap { Int($0) } ?? 0
            status.lastClosedWindowEnd = closed?[1]
            status.closingWindows = try sink.query(
                """
                SELECT to_char(window_start, '\(format)'), to_char(window_end, '\(format)'), closed_by
                  FROM daybook.windows WHERE slot_name = $1 AND status = 'closing' ORDER BY window_start
                """,
                [slot]
            ).rows.map { Status.ClosingWindow(windowStart: $0[0] ?? "?", windowEnd: $0[1] ?? "?", closedBy: $0[2]) }
            status.captureLevels = try CaptureLevels.latest(slot: slot, sink)
            status.gaps = try Gaps.touching(slot: slot, sink)
            status.destinations = try Outbox.list(on: sink).filter { $0.slot == nil || $0.slot == slot }
            for destination in status.destinations {
                if destination.failed > 0 {
                    status.warnings.append(
                        "\(destination.failed) deliveries to \(destination.name) were given up"
                            + (destination.lastError.map { " (last error: \($0))" } ?? "")
                            + ": fix the destination, then daybook notify retry \(destination.name)"
                    )
                }
                if let age = destination.oldestPendingAgeSeconds, age >= 3600 {
                    status.warnings.append(
                        "deliveries to \(destination.name) have waited for \(HumanDuration.text(seconds: age))"
                            + (destination.lastError.map { " (last error: \($0))" } ?? "")
                            + ": is a sender running (run, serve --deliver, or notify send from cron)?"
                    )
                }
            }
            return status
        }
    }

    /// The status as `daybook status` prints it, warnings last.
    public static func lines(of status: Status) -> [String] {
        var lines: [String] = []
        if let error = status.sourceError {
            lines.append("source: unavailable (\(error))")
        } else if let slot = status.replicationSlot, slot.exists {
            let activity =
                slot.readMode == "backlog"
                ? "reading a backlog through SQL decoding (backlog mode)"
                : slot.active == true ? "active (pid \(slot.activePid.map(String.init) ?? "?"))" : "inactive"
            lines.append(
                "slot \(status.slot): \(activity), confirmed up to \(slot.confirmedLsn ?? "?"), retaining "
                    + "\(slot.retainedWal ?? "?") of WAL, wal_status \(slot.walStatus ?? "?")"
            )
        } else {
            lines.append("slot \(status.slot): missing — run `daybook setup --slot \(status.slot)`")
        }
        if status.sourceError == nil {
            if let beat = status.heartbeatTable, let at = beat.lastWrittenAt {
                lines.append("heartbeat table: last written \(at) (\(Self.human(beat.age)) ago, \(beat.beats) in all)")
            } else {
                lines.append("heartbeat table: none (run `daybook setup`, or use `daybook heartbeat --via message`)")
            }
        }
        if let checkpoint = status.checkpoint {
            lines.append(
                "checkpoint: LSN \(checkpoint.lsn), written \(checkpoint.writtenAt ?? "?"); stream time \(checkpoint.streamTime ?? "none")"
            )
            let length = (try? DurationText.seconds(checkpoint.windowLength)).map {
                HumanDuration.text(seconds: Double($0))
            }
            lines.append(
                "windows: \(length ?? checkpoint.windowLength) in \(checkpoint.timeZone), grace \(Self.human(checkpoint.grace))"
            )
            if let at = checkpoint.lastHeartbeatAt {
                lines.append("last heartbeat in the stream: \(at) (\(Self.human(checkpoint.lastHeartbeatAge)) ago)")
            } else {
                lines.append("last heartbeat in the stream: none yet")
            }
        } else {
            lines.append("checkpoint: none yet for slot \(status.slot) (daybook run has not committed anything)")
        }
        lines.append("open windows: \(status.openWindows.count)")
        for window in status.openWindows {
            lines.append(
                "  [\(window.windowStart), \(window.windowEnd)) closes when stream time reaches \(window.closesAt)"
                    + (window.streamTimeUntilClose.map { " (\(Self.human($0)) of stream time from now)" } ?? "")
            )
        }
        for window in status.closingWindows {
            lines.append(
                "closing: [\(window.windowStart), \(window.windowEnd)) closed by \(window.closedBy ?? "?"); its results are being made final "
                    + "(a running daybook run does it; otherwise the next one)"
            )
        }
        lines.append(
            "closed windows: \(status.closedWindows)"
                + (status.lastClosedWindowEnd.map { ", the last ending \($0)" } ?? "")
        )
        if status.captureLevels.isEmpty {
            lines.append("capture levels: every table at keys (daybook capture TABLE LEVEL)")
        } else {
            lines.append("capture levels: keys unless listed (daybook capture TABLE LEVEL)")
            for capture in status.captureLevels {
                var line = "  \(capture.table): \(capture.level) since LSN \(capture.sinceLsn)"
                if let columns = capture.columns { line += ", columns: key and \(columns.joined(separator: ", "))" }
                if !capture.excludedColumns.isEmpty {
                    line += ", never: \(capture.excludedColumns.joined(separator: ", "))"
                }
                if !capture.maskedColumns.isEmpty {
                    line += ", masked: \(capture.maskedColumns.joined(separator: ", "))"
                }
                if !capture.hashedColumns.isEmpty {
                    line += ", hashed: \(capture.hashedColumns.joined(separator: ", "))"
                }
                if let key = capture.keyId, !capture.hashedColumns.isEmpty || !capture.maskedColumns.isEmpty {
                    line += " (key \(key))"
                }
                lines.append(line)
            }
        }
        if !status.gaps.isEmpty {
            lines.append("gaps: \(status.gaps.count) recorded by daybook run --accept-gap")
            for gap in status.gaps { lines.append("  \(gap.sentence)") }
        }
        if !status.destinations.isEmpty {
            lines.append("destinations (daybook notify list):")
            lines += status.destinations.flatMap(\.lines).map { "  " + $0 }
        }
        return lines + status.warnings
    }

    /// The source's part. `tableHeartbeatIsRecent` tells whether the heartbeat table was
    /// written within twice the interval, to tell a stopped cron from a stopped service.
    private func collectSource(
        _ source: Result<PostgresConnection, DaybookError>,
        into status: inout Status,
        tableHeartbeatIsRecent: inout Bool
    ) throws {
        let connection: PostgresConnection
        switch source {
        case .success(let value): connection = value
        case .failure(let error):
            status.sourceError = error.message
            return
        }
        let format = Self.format
        let row = try connection.query(
            """
            SELECT active, active_pid::text, confirmed_flush_lsn::text, wal_status,
                   pg_size_pretty(pg_wal_lsn_diff(w.position, restart_lsn)),
                   pg_wal_lsn_diff(w.position, restart_lsn) > $2::numeric,
                   pg_wal_lsn_diff(w.position, restart_lsn)::bigint::text,
                   CASE WHEN EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = $3) THEN 'backlog'
                        WHEN (SELECT backend_type FROM pg_stat_activity WHERE pid = active_pid) = 'walsender' THEN 'streaming'
                   END
              FROM pg_replication_slots, (SELECT \(WALPositionSQL.current) AS position) w WHERE slot_name = $1
            """,
            [slot, String(maxRetainedWAL), BacklogPlan.applicationName(slot: slot)]
        ).rows.first
        status.sourceClock = try connection.query(
            "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        ).scalar
        if let row {
            status.replicationSlot = Status.ReplicationSlot(
                exists: true,
                active: row[0] == "t",
                activePid: row[1].flatMap { Int($0) },
                confirmedLsn: row[2],
                walStatus: row[3],
                retainedWal: row[4],
                retainedWalBytes: row[6].flatMap { Int64($0) },
                readMode: row[7]
            )
            if row[5] == "t" {
                status.warnings.append(
                    "warning: slot \(slot) retains \(row[4] ?? "?") of WAL; is `daybook run` running and keeping up? "
                        + "(a slot nobody reads keeps WAL forever)"
                )
            }
            if row[3] == "lost" {
                status.warnings.append(
                    "warning: slot \(slot) was invalidated (wal_status lost): recreate it with `daybook setup`"
                )
            }
        } else {
            status.replicationSlot = Status.ReplicationSlot(exists: false)
        }
        let beat = try? connection.query(
            """
            SELECT to_char(beat_at, '\(format)'), date_trunc('second', clock_timestamp() - beat_at)::text, beats,
                   beats > 0 AND extract(epoch FROM clock_timestamp() - beat_at) <= $1::float8
              FROM daybook.heartbeat
            """,
            [String(Double(heartbeatInterval.components.seconds) * 2)]
        ).rows.first
        tableHeartbeatIsRecent = beat?[3] == "t"
        if let beat, let at = beat[0] {
            let published = try SourceChecks.heartbeatIsPublished(connection, publication)
            status.heartbeatTable = Status.HeartbeatTable(
                lastWrittenAt: at,
                age: beat[1],
                beats: beat[2].flatMap { Int64($0) } ?? 0,
                published: published
            )
            if !published {
                status.warnings.append(
                    "warning: daybook.heartbeat is not in publication \(publication), so table heartbeats never arrive: "
                        + "run `daybook setup --publication \(publication)`"
                )
            }
        }
    }

    /// A PostgreSQL interval as people read it (``HumanDuration``); `?` when there is none.
    private static func human(_ interval: String?) -> String {
        interval.map { HumanDuration.text(interval: $0) ?? $0 } ?? "?"
    }
}
