import DaybookCore
import PgOutput
import PostgresReplication
import WAL

/// A sink that lost commits, found before anything is read: the slot has confirmed more than
/// the sink's checkpoint holds.
///
/// Daybook confirms the slot only up to the sink's checkpoint (an idle stretch is written to the
/// checkpoint before it is confirmed, ``Sink/advanceCheckpoint(to:)``). So at the start of every
/// session, first start, reconnect and backlog read alike, a slot ahead of the checkpoint can
/// only mean that the sink went back in time (restored from a backup, or failed over to a
/// standby that had not replayed its last commits) or that the slot was dropped and created
/// again. The server streams from the slot's position, so the changes between the two cannot
/// be read again, and going on would report a day with changes missing as if it were whole.
/// The decision is pure; ``ReplicationPipeline`` reads the positions and carries it out:
/// it refuses, or with `run --accept-gap` records the gap (``Sink/recordGap(_:sourceClock:)``)
/// so that every view of the windows it may touch says that they are incomplete.
enum SinkGap {
    /// The changes that cannot be read again: committed after `from` (the sink's checkpoint)
    /// and up to `to` (the slot's confirmed position).
    struct Gap: Equatable, Sendable {
        var from: LSN
        var to: LSN
        /// The slot's `restart_lsn`: when it is past `from`, the server no longer keeps the WAL
        /// of the gap at all (a recreated slot, or one that moved on long ago).
        var walKeptFrom: LSN?
    }

    enum Verdict: Equatable {
        /// Nothing to do: the slot is at or behind the checkpoint (or nothing was confirmed yet).
        case proceed
        /// The checkpoint row predates the rule (written by an earlier Daybook, which confirmed
        /// idle stretches without recording them): take this position as the checkpoint's and
        /// mark the row, since nothing below the slot can be read again anyway.
        case adopt(LSN)
        /// The sink lost commits (or the slot was recreated).
        case refuse(Gap)
    }

    /// - Parameters:
    ///   - sinkLSN: the sink's checkpoint; 0 when it has never written one for the slot.
    ///   - slotConfirmed: the slot's `confirmed_flush_lsn` (nil when the server has none).
    ///   - slotRestart: the slot's `restart_lsn`.
    ///   - bounded: whether the checkpoint row was written under the rule (migration 010).
    static func verdict(sinkLSN: LSN, slotConfirmed: LSN?, slotRestart: LSN? = nil, bounded: Bool) -> Verdict {
        guard let slotConfirmed, sinkLSN > 0 else { return .proceed }
        if !bounded { return .adopt(max(sinkLSN, slotConfirmed)) }
        guard slotConfirmed > sinkLSN else { return .proceed }
        return .refuse(Gap(from: sinkLSN, to: slotConfirmed, walKeptFrom: slotRestart))
    }

    /// Reads the sink's checkpoint (without writing anything) and the slot's positions, and decides.
    static func verdict(
        sink: PostgresConnection,
        catalog: PostgresConnection,
        slot: String
    ) throws(DaybookError) -> Verdict {
        let checkpoint = try DaybookError.mapping(role: .sink) { try CheckpointRow.read(slot: slot, on: sink) }
        guard let checkpoint else { return .proceed }
        let lsn = checkpoint.lsn
        let positions = try DaybookError.mapping(role: .source) {
            try catalog.query(
                "SELECT confirmed_flush_lsn::text, restart_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
                [slot]
            ).rows.first
        }
        return verdict(
            sinkLSN: lsn,
            slotConfirmed: positions?[0].flatMap(LSN.init),
            slotRestart: positions?[1].flatMap(LSN.init),
            bounded: checkpoint.slotBounded
        )
    }

    /// The refusal, in one line: what happened, and what to do.
    static func refusal(slot: String, gap: Gap) -> DaybookError {
        let from = gap.from.description
        let to = gap.to.description
        let walGone = gap.walKeptFrom.map { $0 > gap.from } ?? false
        let cause =
            walGone
            ? "the sink lost commits (restored from a backup, or failed over to a standby that had not replayed them), "
                + "or the slot was dropped and created again; the changes between \(from) and \(to) cannot be read again "
                + "(the server keeps WAL for the slot only from \(gap.walKeptFrom ?? gap.to))"
            : "the sink lost commits (restored from a backup, or failed over to a standby that had not replayed them); "
                + "the changes between \(from) and \(to) cannot be read again"
        return DaybookError(
            .sinkLostCommits,
            "the sink's checkpoint for slot \(slot) is at \(from) but the slot has confirmed \(to): \(cause). "
                + "Make the sink durable against this (a synchronous standby: synchronous_standby_names with "
                + "synchronous_commit = on, or remote_apply to read from it at once; see the README, \"Surviving failover\"); "
                + "to go on knowing that the windows after \(from) miss those changes, run once with --accept-gap: "
                + "it records the gap, and every report of the windows it may touch says that they are incomplete"
        )
    }
}
