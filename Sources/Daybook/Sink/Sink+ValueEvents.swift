import DaybookCore
import PostgresReplication
import Windowing

/// The checkpoint path's half of value capture: the events go in as they are, and
/// ``ClosingValueFold`` folds them per key when their window closes.
extension Sink {
    /// Appends the events of `values` tables to `daybook.value_events` with one binary COPY
    /// on this sink's connection (``ValueEventRows``).
    /// - Parameter attributions: who made the changes (each event's `actor` indexes it).
    func appendValueEvents(
        _ events: ValueEventLog,
        tableNames: [String],
        attributions: [Attribution]
    ) throws(PostgresError) {
        guard !events.isEmpty else { return }
        var encoder = takeCopyEncoder()
        defer { returnCopyEncoder(encoder) }
        try ValueEventRows(slotBytes: slotBytes).copy(
            events,
            tableNames: tableNames,
            attributions: attributions,
            on: connection,
            encoder: &encoder
        )
    }

    /// Erases, in the checkpoint's transaction, what reached the sink of a key forgotten in the
    /// last minute of stream time (``Erasure``): a change committed before the erasure may
    /// arrive after it. One indexed query when nothing is pending.
    func erasePending() throws(PostgresError) {
        let pending = try connection.query(SinkSQL.pendingErasures, [slot]).rows
        guard !pending.isEmpty else { return }
        for row in pending {
            try connection.query(SinkSQL.erasePendingKey, [slot, row[0], row[1], row[2]])
            // A close that folded such events (its checkpoint beside the forget) wrote them on.
            try connection.query(SinkSQL.forgetChanges, [slot, row[0], row[1]])
            try connection.query(
                "DELETE FROM daybook.key_images WHERE slot_name = $1 AND table_name = $2 AND key = $3",
                [slot, row[0], row[1]]
            )
        }
        try connection.query(SinkSQL.settleErasures, [slot])
    }
}
