import PgOutput
import PostgresReplication

/// A sink that lost commits, found before anything is read: the slot has confirmed more than
/// the sink's checkpoint holds.
///
/// Daybook confirms the slot only up to the sink's checkpoint (an idle stretch is written to the
/// checkpoint before it is confirmed, ``Sink/advanceCheckpoint(to:)``). So at the start of every
/// session, first start, reconnect and backlog read alike, a slot ahead of the checkpoint can
/// only mean that the sink went back in time: restored from a backup, or failed over to a
/// standby that had not replayed its last commits. The server streams from the slot's
/// position, so the changes between the two cannot be read again, and going on would report a
/// day with changes missing as if it were whole. The decision is pure; ``ReplicationPipeline``
/// reads the two positions and carries it out.
enum SinkGap {
    enum Verdict: Equatable {
        /// Nothing to do: the slot is at or behind the checkpoint (or nothing was confirmed yet).
        case proceed
        /// The checkpoint row predates the rule (written by an earlier Daybook, which confirmed
        /// idle stretches without recording them): take this position as the checkpoint's and
        /// mark the row, since nothing below the slot can be read again anyway.
        case adopt(UInt64)
        /// The sink lost commits between `sink` and `slot`.
        case refuse(sink: UInt64, slot: UInt64)
    }

    /// - Parameters:
    ///   - sinkLSN: the sink's checkpoint; 0 when it has never written one for the slot.
    ///   - slotConfirmed: the slot's `confirmed_flush_lsn` (nil when the server has none).
    ///   - bounded: whether the checkpoint row was written under the rule (migration 010).
    static func verdict(sinkLSN: UInt64, slotConfirmed: UInt64?, bounded: Bool) -> Verdict {
        guard let slotConfirmed, sinkLSN > 0 else { return .proceed }
        if !bounded { return .adopt(max(sinkLSN, slotConfirmed)) }
        return slotConfirmed > sinkLSN ? .refuse(sink: sinkLSN, slot: slotConfirmed) : .proceed
    }

    /// Reads the sink's checkpoint (without writing anything) and the slot's confirmed
    /// position, and decides.
    static func verdict(sink: PostgresConnection, catalog: PostgresConnection, slot: String) throws(DaybookError) -> Verdict {
        let row = try DaybookError.mapping(role: "sink") {
            try sink.query("SELECT lsn::text, slot_bounded FROM daybook.checkpoint WHERE slot_name = $1", [slot]).rows.first
        }
        guard let row, let lsn = row[0].flatMap(parseLSN) else { return .proceed }
        let confirmed = try DaybookError.mapping(role: "source") {
            try catalog.query("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", [slot])
                .scalar.flatMap(parseLSN)
        }
        return verdict(sinkLSN: lsn, slotConfirmed: confirmed, bounded: row[1] == "t")
    }

    /// The refusal, in one line: what happened, and what to do.
    static func refusal(slot: String, sink: UInt64, confirmed: UInt64) -> DaybookError {
        DaybookError(
            .sinkLostCommits,
            "the sink's checkpoint for slot \(slot) is at \(formatLSN(sink)) but the slot has confirmed \(formatLSN(confirmed)): "
                + "the sink lost commits (restored from a backup, or failed over to a standby that had not replayed them); "
                + "the changes between \(formatLSN(sink)) and \(formatLSN(confirmed)) cannot be read again. Make the sink durable "
                + "against this (a synchronous standby: synchronous_standby_names with synchronous_commit = on, or remote_apply "
                + "to read from it at once; see the README, \"Surviving failover\"); to go on knowing that the windows after "
                + "\(formatLSN(sink)) miss those changes, move the checkpoint by hand: UPDATE daybook.checkpoint SET lsn = "
                + "'\(formatLSN(confirmed))' WHERE slot_name = '\(slot)'")
    }
}
