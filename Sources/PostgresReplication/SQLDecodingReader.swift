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
/// Peeking never consumes: the slot stays where it is until ``advance(to:)`` moves it, which
/// the caller does only up to what it has durably processed. Each peek starts from the slot's
/// confirmed position (decoding from its restart position), so every peek must be followed by
/// an advance or the next one returns the same transactions again.
///
/// The function materialises its whole result before sending the first row (in memory up to
/// `work_mem`, then in temporary files), so the WAL range of one read bounds the server's
/// temporary space; its `temp_file_limit`, when set, is a hard limit (SQLSTATE 53400).
public final class SQLDecodingReader {
    public let connection: PostgresConnection
    public let slot: String

    /// Prepares `connection` (ordinary, not replication) to read `slot` through the pgoutput
    /// plugin for `publications`, with logical messages, in protocol 1: every transaction comes
    /// whole after its commit (a read returns only transactions that committed inside it).
    ///
    /// COPY cannot take parameters, so the slot and publication names travel as session
    /// settings set through a parameterised `set_config` and read back by the statement.
    public init(connection: PostgresConnection, slot: String, publications: [String]) throws(PostgresError) {
        self.connection = connection
        self.slot = slot
        let names = publications.map { "\"" + $0.replacingAll("\"", with: "\"\"") + "\"" }.joined(separator: ",")
        try connection.query(
            "SELECT set_config('daybook.decode_slot', $1, false), set_config('daybook.decode_publications', $2, false)",
            [slot, names]
        )
    }

    /// The statement one read runs; the end position is the one setting that changes per read.
    static let peekStatement = """
        COPY (SELECT lsn, data FROM pg_catalog.pg_logical_slot_peek_binary_changes(
                current_setting('daybook.decode_slot')::name, current_setting('daybook.decode_upto')::pg_lsn, NULL,
                'proto_version', '1', 'publication_names', current_setting('daybook.decode_publications'),
                'messages', 'true')) TO STDOUT (FORMAT binary)
        """

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
        try connection.copyOut(Self.peekStatement, idle: idle) { chunk in
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
