import DaybookCore
import PostgresReplication
import WAL
import Windowing

/// A slot's row of `daybook.checkpoint`, read in one place: how far the sink holds the
/// stream's results, with the settings those results were made with.
///
/// Every part of Daybook that needs the checkpoint alone (loading the state, the fence before
/// a write, the lost-commits check, the stored window settings, a missing slot's error) reads
/// it here; queries that join it into larger reports (status, figures, notices) keep it in
/// their own statement.
struct CheckpointRow: Sendable {
    /// The sink holds every commit up to here.
    var lsn: LSN
    /// A large transaction was partly written ahead of a commit that never reached a
    /// checkpoint: its rows past ``lsn`` are to be deleted before anything else is written.
    var hasUnfinishedSpill: Bool
    /// The LSN was moved to the slot's position with nothing written (``SinkGap``).
    var slotBounded: Bool
    var streamTime: Timestamp?
    var lastHeartbeat: Timestamp?
    /// The window settings stored with the results.
    var windowLength: String?
    var graceMicroseconds: Int64?
    var timeZone: String?
    /// The source's timeline when the checkpoint was written (nil before the first write).
    var timeline: Int?
    /// Whether the slot has summarised anything: a first run's placeholder row, with no LSN,
    /// no stream time and no window, has not.
    var hasResults: Bool

    /// The row for `slot`, or nil when the sink has none; `locking` takes the row's lock for
    /// the rest of the transaction (the fence before a checkpoint write).
    static func read(
        slot: String,
        on connection: PostgresConnection,
        locking: Bool = false
    ) throws(PostgresError) -> CheckpointRow? {
        let row = try connection.query(
            """
            SELECT c.lsn::text, c.pending_lsn IS NOT NULL, c.slot_bounded, daybook.to_micros(c.stream_time),
                   daybook.to_micros(c.last_heartbeat_at), c.window_length,
                   (extract(epoch FROM c.grace) * 1000000)::bigint, c.time_zone, c.timeline,
                   c.lsn <> '0/0' OR c.stream_time IS NOT NULL
                     OR EXISTS (SELECT 1 FROM daybook.windows w WHERE w.slot_name = c.slot_name)
              FROM daybook.checkpoint c WHERE c.slot_name = $1
            """ + (locking ? " FOR UPDATE OF c" : ""),
            [slot]
        ).rows.first
        guard let row else { return nil }
        func timestamp(_ text: String?) -> Timestamp? {
            text.flatMap { Int64($0) }.map { Timestamp(microsecondsSinceEpoch: $0) }
        }
        return CheckpointRow(
            lsn: row[0].flatMap(LSN.init) ?? 0,
            hasUnfinishedSpill: row[1] == "t",
            slotBounded: row[2] == "t",
            streamTime: timestamp(row[3]),
            lastHeartbeat: timestamp(row[4]),
            windowLength: row[5],
            graceMicroseconds: row[6].flatMap { Int64($0) },
            timeZone: row[7],
            timeline: row[8].flatMap { Int($0) },
            hasResults: row[9] == "t"
        )
    }
}
