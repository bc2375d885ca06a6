import DaybookCore
import PostgresReplication
import Windowing

/// The checkpoint path's half of value capture: the events go in as they are, and
/// ``ClosingValueFold`` folds them per key when their window closes.
extension Sink {
    /// Appends the events of `values` tables to `daybook.value_events` with one binary COPY.
    ///
    /// The COPY goes out a block at a time while the rest is encoded: the sink server stores
    /// the first events while this thread encodes the next, rather than one waiting for the
    /// other (a checkpoint of 50,000 events is about 18 MB).
    /// - Parameter attributions: who made the changes (each event's `actor` indexes it).
    func appendValueEvents(
        _ events: ValueEventLog,
        tableNames: [String],
        attributions: [Attribution]
    ) throws(PostgresError) {
        guard !events.isEmpty else { return }
        var encoder = takeCopyEncoder()
        defer { returnCopyEncoder(encoder) }
        let tableBytes = tableNames.map { Array($0.utf8) }
        let actorBytes = attributions.map { Array($0.eventJSON.utf8) }
        try connection.copyIn(SinkSQL.copyValueEvents) { send in
            for (index, event) in events.events.enumerated() {
                encode(event, at: index, of: events, tableBytes: tableBytes, actorBytes: actorBytes, into: &encoder)
                if encoder.bytes.count >= Self.copyBlockBytes { try encoder.flush(to: send) }
            }
            encoder.finish()
            try encoder.flush(to: send)
        }
    }

    /// What the encoder gathers before it hands a block of a COPY to the connection.
    static let copyBlockBytes = 1 << 20

    /// One event as a row of `daybook.value_events`, in `SinkSQL.copyValueEvents`'s column order.
    private func encode(
        _ event: ValueEventLog.Event,
        at index: Int,
        of events: ValueEventLog,
        tableBytes: [[UInt8]],
        actorBytes: [[UInt8]],
        into encoder: inout BinaryCopyEncoder
    ) {
        encoder.beginRow(fieldCount: 14)
        encoder.appendText(slotBytes)
        encoder.appendTimestamp(microsecondsSinceEpoch: event.windowStart)
        encoder.appendText(tableBytes[Int(event.table)])
        events.withImages(at: index) { images in
            encoder.appendText(images.key)
            encoder.appendLSN(event.lsn)
            encoder.appendInt32Field(event.sequence)
            withUnsafeBytes(of: event.operation.rawValue) { encoder.appendText($0) }
            encoder.appendTimestamp(microsecondsSinceEpoch: event.commitTime)
            // JSON text, stored as it is. One call each, not a
            // loop over an array of them, which would allocate that array for every event.
            func append(_ image: UnsafeRawBufferPointer?) {
                if let image { encoder.appendText(image) } else { encoder.appendNull() }
            }
            append(images.row)
            append(images.oldRow)
            append(images.oldKey)
            append(images.newKey)
            append(images.unchanged)
        }
        if event.actor >= 0, Int(event.actor) < actorBytes.count {
            encoder.appendText(actorBytes[Int(event.actor)])
        } else {
            encoder.appendNull()
        }
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
