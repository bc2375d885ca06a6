import DaybookCore
import Foundation
import PostgresReplication
import WAL

/// Checks the source before streaming, so that a missing slot or publication is a one-line
/// error with the fix instead of a failure deep inside the stream.
enum SourcePreflight {
    ///
    /// - Parameters:
    ///   - idleWatermark: `run --idle-watermark`, which a standby cannot serve.
    ///   - heartbeatsHere: whether this run writes heartbeats to this server (`--heartbeat-every`
    ///     without `--primary`), which a standby refuses.
    ///   - resultsUpTo: the sink's checkpoint LSN for the slot, when it has one: a slot missing
    ///     then is one lost (a failover without a failover slot), not one never made.
    /// - Returns: whether the server is a physical standby.
    @discardableResult
    static func check(
        _ connection: PostgresConnection,
        slot: String,
        publications: [String],
        idleWatermark: Bool = false,
        heartbeatsHere: Bool = false,
        resultsUpTo: LSN? = nil
    ) throws(DaybookError) -> Bool {
        try DaybookError.mapping(role: .source) {
            try SourceChecks.requireSupportedVersion(connection)
            let standby = try SourceChecks.isStandby(connection)
            if standby {
                try SourceChecks.requireDecodingStandby(connection)
                if idleWatermark {
                    throw DaybookError(
                        .configuration,
                        "--idle-watermark reads the server's clock and WAL insert position, and a standby has no insert "
                            + "position (its clock says nothing of what the primary committed): drop it and let heartbeats "
                            + "written to the primary close the windows (cron `daybook heartbeat --database PRIMARY`, or "
                            + "--heartbeat-every with --primary)"
                    )
                }
                if heartbeatsHere {
                    throw DaybookError(
                        .configuration,
                        "--database is a standby, where --heartbeat-every cannot write: add --primary with the primary's "
                            + "connection; heartbeats written there reach this standby's stream"
                    )
                }
            }
            try SourceChecks.requireLogicalDecoding(connection)
            guard let row = try slotRow(connection, slot: slot) else {
                if let resultsUpTo, resultsUpTo > 0 {
                    throw DaybookError(
                        .slotMissing,
                        "replication slot \(slot) does not exist on this server, though the sink holds its results up to LSN "
                            + "\(resultsUpTo): if this server was promoted in a failover, the slot was not a failover "
                            + "slot (PostgreSQL 17: `daybook setup --failover`, sync_replication_slots = on on the standby) and "
                            + "the changes since cannot be read; `daybook setup --slot \(slot)` makes a new slot that starts now, "
                            + "leaving that gap"
                    )
                }
                throw DaybookError(
                    .slotMissing,
                    "replication slot \(slot) does not exist: run `daybook setup --slot \(slot)` first"
                )
            }
            let database = try connection.simpleQuery("SELECT current_database()").scalar
            if row[0] != "pgoutput" || row[1] != database {
                throw DaybookError(
                    .slotMissing,
                    "replication slot \(slot) is not a pgoutput slot of database \(database ?? "?") "
                        + "(plugin \(row[0] ?? "none"), database \(row[1] ?? "none")): choose another --slot"
                )
            }
            if row[2] == "lost" {
                throw DaybookError(
                    .slotInvalid,
                    "replication slot \(slot) was invalidated (its WAL was removed, max_slot_wal_keep_size): changes since "
                        + "the last checkpoint are gone; drop and recreate it with `daybook setup` and accept the gap"
                )
            }
            if let pid = row[3] {
                // Before anything touches the sink: the slot's consumer owns its results there.
                if row[4] == BacklogPlan.applicationName(slot: slot) {
                    throw DaybookError(
                        .slotInUse,
                        "replication slot \(slot) is held by a backlog read (PID \(pid)) that has not ended in a minute: "
                            + "another daybook run is reading its backlog, or a killed one's read still runs; stop it first",
                        retryable: true
                    )
                }
                throw DaybookError(
                    .slotInUse,
                    "replication slot \(slot) is active for PID \(pid) — another consumer (perhaps another daybook run) is "
                        + "using the slot; stop it first",
                    retryable: true
                )
            }
            for publication in publications { try SourceChecks.requirePublication(connection, publication) }
            return standby
        }
    }

    /// The slot's plugin, database, `wal_status`, active PID and that backend's application
    /// name, or nil when there is no such slot.
    ///
    /// A backlog read holds the slot while the server decodes a range; when its daybook was
    /// killed, the server notices only once it sends the result, so the slot stays held for as
    /// long as that range takes to decode. Such a holder is waited for (up to a minute) rather
    /// than reported as another consumer; a live run's reader lets go between ranges, and then
    /// the sink's claim on the slot turns a second run away.
    private static func slotRow(_ connection: PostgresConnection, slot: String) throws -> [String?]? {
        let sql = """
            SELECT plugin, database, wal_status, active_pid::text,
                   (SELECT application_name FROM pg_stat_activity WHERE pid = active_pid)
              FROM pg_replication_slots WHERE slot_name = \(connection.quoteLiteral(slot))
            """
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let row = try connection.simpleQuery(sql).rows.first
            guard let row, row[3] != nil, row[4] == BacklogPlan.applicationName(slot: slot),
                ContinuousClock.now < deadline
            else { return row }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }
}
