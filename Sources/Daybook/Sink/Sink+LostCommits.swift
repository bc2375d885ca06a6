import DaybookCore
import PgOutput
import PostgresReplication
import Windowing

/// The sink's side of never losing what the slot confirmed: durable commits, and the gaps the
/// operator accepted when commits were lost anyway.
extension Sink {
    /// The slot is confirmed as soon as the sink's COMMIT returns, so that commit must survive a
    /// crash of the sink and reach its synchronous standby if it has one. A server default of
    /// `synchronous_commit = off`, `local` or `remote_write` would let a crash or a failover of
    /// the sink lose commits the slot has confirmed (``SinkGap`` would then refuse to go on), so
    /// this session asks for `on`; `remote_apply` is kept. One fsync per checkpoint is the cost.
    public func requireDurableCommits() throws(DaybookError) {
        _ = try DaybookError.mapping(role: .sink) {
            try connection.query(
                """
                SELECT set_config('synchronous_commit', 'on', false)
                 WHERE current_setting('synchronous_commit') IN ('off', 'local', 'remote_write')
                """
            )
        }
    }

    /// Records a gap the operator accepted (`run --accept-gap`) and moves the checkpoint past
    /// it, to the slot's position, in one transaction: the next session reads from there.
    ///
    /// The lost commits were committed after the checkpoint's stream time and, at the latest,
    /// before `sourceClock` (the source's clock now); ``refineGaps(firstCommit:)`` lowers that
    /// to the first commit read after the gap. Call ``claimSlot()`` first.
    func recordGap(_ gap: SinkGap.Gap, sourceClock: String) throws(DaybookError) {
        try transaction {
            try connection.query(
                """
                INSERT INTO daybook.gaps (slot_name, from_lsn, to_lsn, from_time, until_time)
                SELECT slot_name, lsn, $2::pg_lsn, stream_time, $3::timestamptz FROM daybook.checkpoint
                 WHERE slot_name = $1 AND lsn < $2::pg_lsn
                ON CONFLICT (slot_name, to_lsn) DO NOTHING
                """,
                [slot, gap.to.description, sourceClock]
            )
            try connection.query(
                "UPDATE daybook.checkpoint SET lsn = $2::pg_lsn, updated_at = now() WHERE slot_name = $1 AND lsn < $2::pg_lsn",
                [slot, gap.to.description]
            )
        }
        expectedLSN = gap.to
        refiningGaps = true
    }

    /// Whether a recorded gap still waits for the first commit after it (read at session start).
    func loadGapRefinement() throws(DaybookError) {
        refiningGaps = try DaybookError.mapping(role: .sink) {
            try connection.query(
                "SELECT EXISTS (SELECT 1 FROM daybook.gaps WHERE slot_name = $1 AND NOT refined)",
                [slot]
            )
            .scalar == "t"
        }
    }

    /// Within a checkpoint's transaction: the first commit after a gap bounds the times of the
    /// commits it lost (commit times follow the WAL's order), so the gap touches no window after it.
    func refineGaps(firstCommit: Timestamp?) throws {
        guard refiningGaps, let firstCommit else { return }
        try connection.query(
            """
            UPDATE daybook.gaps SET until_time = least(until_time, daybook.from_micros($2::bigint)), refined = true
             WHERE slot_name = $1 AND NOT refined
            """,
            [slot, String(firstCommit.microsecondsSinceEpoch)]
        )
    }
}
