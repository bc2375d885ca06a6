import DaybookCore
import PostgresReplication
import Windowing

/// A checkpoint's value events as rows of `daybook.value_events`, sent with one binary COPY.
///
/// A value of its own, not a method of ``Sink``, so that the events can be written on a second
/// connection from a thread of its own (``EventsAheadWriter``) while the sink's connection
/// writes the rest of the checkpoint.
struct ValueEventRows: Sendable {
    /// The slot's name as UTF-8, the first column of every row.
    let slotBytes: [UInt8]

    /// What the encoder gathers before it hands a block of a COPY to the connection.
    static let copyBlockBytes = 1 << 20

    /// Appends `events` with one binary COPY on `connection`.
    ///
    /// The COPY goes out a block at a time while the rest is encoded: the sink server stores
    /// the first events while this thread encodes the next, rather than one waiting for the
    /// other (a checkpoint of 50,000 events is about 18 MB).
    /// - Parameter attributions: who made the changes (each event's `actor` indexes it).
    func copy(
        _ events: ValueEventLog,
        tableNames: [String],
        attributions: [Attribution],
        on connection: PostgresConnection,
        encoder: inout BinaryCopyEncoder
    ) throws(PostgresError) {
        guard !events.isEmpty else { return }
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
}
