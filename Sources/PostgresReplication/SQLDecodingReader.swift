import WAL

/// Reads a logical slot's changes through PostgreSQL's SQL decoding functions over an
/// ordinary connection: the fast way through a backlog.
///
/// A walsender sends each decoded message on its own (one `send` per message), which on a
/// busy machine costs more than the decoding itself. `pg_logical_slot_peek_binary_changes`
/// decodes the same WAL with the same output plugin into a result set, and `COPY … TO STDOUT
/// (FORMAT binary)` hands that over in large socket writes: a backlog arrives at the server's
/// decoding speed. The payloads are exactly the walsender's pgoutput messages.
///
/// Peeking never consumes: the slot stays where it is until ``PostgresConnection/advanceSlot(_:to:)``
/// moves it, which the caller does only up to what it has durably processed. Each peek starts
/// from the slot's confirmed position (decoding from its restart position), so every peek must
/// be followed by an advance or the next one returns the same transactions again. Reading ahead
/// of what is durable needs a temporary copy of the slot, read with ``Reading/consume``.
///
/// The function materialises its whole result before sending the first row (in memory up to
/// `work_mem`, then in temporary files), so the WAL range of one read bounds the server's
/// temporary space; its `temp_file_limit`, when set, is a hard limit (SQLSTATE 53400).
public final class SQLDecodingReader {
    public let connection: PostgresConnection
    public let slot: String

    /// How a read treats the slot it reads.
    public enum Reading: Sendable {
        /// `pg_logical_slot_peek_binary_changes`: the slot stays where it is; the caller
        /// advances it to what it has durably processed. For the slot Daybook owns.
        case peek
        /// `pg_logical_slot_get_binary_changes`: each read moves the slot past what it
        /// returned. Only for a temporary copy (``createTemporaryCopy(of:named:)``), whose
        /// position nothing durable depends on.
        case consume
    }

    public let reading: Reading

    /// Prepares `connection` (ordinary, not replication) to read `slot` through the pgoutput
    /// plugin for `publications`, with logical messages, in protocol 1: every transaction comes
    /// whole after its commit (a read returns only transactions that committed inside it).
    ///
    /// COPY cannot take parameters, so the slot and publication names travel as session
    /// settings set through a parameterised `set_config` and read back by the statement.
    public init(
        connection: PostgresConnection,
        slot: String,
        publications: [String],
        reading: Reading = .peek
    ) throws(PostgresError) {
        self.connection = connection
        self.slot = slot
        self.reading = reading
        let names = publications.map { "\"" + $0.replacingAll("\"", with: "\"\"") + "\"" }.joined(separator: ",")
        try connection.query(
            "SELECT set_config('daybook.decode_slot', $1, false), set_config('daybook.decode_publications', $2, false)",
            [slot, names]
        )
    }

    /// Makes a temporary copy of `slot` named `name` on `connection`, at the slot's confirmed
    /// and restart positions: a slot that can be read ahead of what the sink has committed
    /// (``Reading/consume``) while `slot` itself stays where the sink is. The server drops it
    /// when `connection` ends, however it ends, so a crash leaves nothing behind.
    ///
    /// Fails with SQLSTATE 53400 when `max_replication_slots` are all in use.
    public static func createTemporaryCopy(
        of slot: String,
        named name: String,
        on connection: PostgresConnection
    ) throws(PostgresError) {
        try connection.query(
            "SELECT slot_name FROM pg_catalog.pg_copy_logical_replication_slot($1, $2, true)",
            [slot, name]
        )
    }

    /// Where the slot read restarts decoding now: reads of WAL past it decode from here,
    /// so the WAL between here and the slot's confirmed position is decoded again.
    public func restartPosition() throws(PostgresError) -> LSN {
        let text = try connection.query(
            "SELECT restart_lsn::text FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
            [slot]
        ).scalar
        guard let text, let lsn = LSN(text) else {
            throw PostgresError(.protocolViolation, message: "the slot \(slot) has no restart position")
        }
        return lsn
    }

    /// The statement one read runs; the end position is the one setting that changes per read.
    static func statement(_ reading: Reading) -> String {
        """
        COPY (SELECT lsn, data FROM pg_catalog.pg_logical_slot_\(reading == .peek ? "peek" : "get")_binary_changes(
                current_setting('daybook.decode_slot')::name, current_setting('daybook.decode_upto')::pg_lsn, NULL,
                'proto_version', '1', 'publication_names', current_setting('daybook.decode_publications'),
                'messages', 'true')) TO STDOUT (FORMAT binary)
        """
    }

    /// Decodes every transaction that commits after the slot's confirmed position and no
    /// later than the WAL record that reaches `end`, handing each pgoutput message to
    /// `handle` with its WAL position, in order; the payload is valid only during the call.
    ///
    /// `end` must not lie past the server's flushed (on a standby: replayed) WAL when the
    /// read starts: the function stops there, and the caller could not tell.
    ///
    /// While the server decodes (before the first row), `idle` is called once a second.
    /// If `handle` or `idle` throws, the COPY is abandoned and the connection can no longer
    /// be used.
    ///
    /// - Returns: the number of messages read.
    @discardableResult
    public func read(
        upTo end: LSN,
        idle: () throws -> Void = {},
        _ handle: (LSN, UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int {
        try connection.query("SELECT set_config('daybook.decode_upto', $1, false)", [end.description])
        var reader = BinaryCopyReader()
        var messages = 0
        try connection.copyOut(Self.statement(reading), idle: idle) { chunk in
            try reader.feed(chunk) { fields in
                guard fields.count == 2, let lsnField = fields[0], lsnField.count == 8, let data = fields[1] else {
                    throw PostgresError(
                        .protocolViolation,
                        message: "pg_logical_slot_peek_binary_changes returned an unexpected row"
                    )
                }
                messages += 1
                try handle(LSN(lsnField.bigEndian(UInt64.self, at: 0)), data)
            }
        }
        guard reader.isFinished else {
            throw PostgresError(
                .protocolViolation,
                message: "the decoded changes ended before the end of their COPY data"
            )
        }
        return messages
    }
}

extension PostgresConnection {
    /// `pg_replication_slot_advance`: moves `slot`'s confirmed position to `position` (never
    /// backwards; the server caps it at its flushed WAL) and its restart position with it,
    /// so the server may recycle the WAL before. The slot must not be in use by anyone else.
    ///
    /// - Returns: where the slot's confirmed position now is.
    @discardableResult
    public func advanceSlot(_ slot: String, to position: LSN) throws(PostgresError) -> LSN {
        let result = try query(
            "SELECT end_lsn::text FROM pg_catalog.pg_replication_slot_advance($1, $2::pg_lsn)",
            [slot, position.description]
        )
        guard let text = result.scalar, let lsn = LSN(text) else {
            throw PostgresError(.protocolViolation, message: "pg_replication_slot_advance returned no position")
        }
        return lsn
    }
}
