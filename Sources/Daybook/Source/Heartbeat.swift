import DaybookCore
import PostgresReplication
import WAL

/// The fake update that moves stream time on a quiet database.
///
/// A heartbeat is a tiny transaction that travels through the replication stream like any
/// change; its commit time moves stream time forward, so windows close when nothing else is
/// written. It never appears in a summary. Two ways to make one:
/// - ``Method/table``: update the one row of `daybook.heartbeat` (the table must be published);
/// - ``Method/message``: `pg_logical_emit_message(true, 'daybook.heartbeat', …)`, which churns
///   no table and needs no publication (Daybook always streams with `messages 'true'`).
public enum Heartbeat {
    public enum Method: String, CaseIterable, Sendable {
        case table, message
    }

    static let createTableSQL = """
        CREATE SCHEMA IF NOT EXISTS daybook;
        CREATE TABLE IF NOT EXISTS daybook.heartbeat (
            id      integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
            beat_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            beats   bigint NOT NULL DEFAULT 0
        );
        INSERT INTO daybook.heartbeat (id) VALUES (1) ON CONFLICT (id) DO NOTHING;
        """

    /// What one heartbeat wrote.
    public struct Beat: Sendable {
        /// The table's beat count (table method only).
        public var count: Int?
        /// The time or LSN the database reported.
        public var detail: String
    }

    /// Checks that a heartbeat can reach Daybook, then makes one in its own transaction.
    ///
    /// - Parameter publication: the publication the table must belong to (table method).
    @discardableResult
    public static func beat(
        on connection: PostgresConnection,
        via method: Method = .table,
        publication: String
    )
        throws(DaybookError) -> Beat
    {
        try DaybookError.mapping(role: .source) {
            try check(connection, via: method, publication: publication)
            // A heartbeat that is not flushed cannot be decoded yet; `heartbeat && run
            // --until-caught-up` must see it even where the server commits asynchronously.
            // `local`: decoding needs only the local flush, and a synchronous standby that is
            // down must not hang the heartbeat.
            try connection.simpleQuery("SET synchronous_commit = local")
            switch method {
            case .table:
                let row = try connection.query(
                    """
                    UPDATE daybook.heartbeat SET beat_at = clock_timestamp(), beats = beats + 1 WHERE id = 1
                    RETURNING beats, to_char(beat_at, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM')
                    """
                ).rows.first
                guard let row else {
                    throw DaybookError(
                        .heartbeatMissing,
                        "the heartbeat row is missing: run `daybook setup` to recreate it"
                    )
                }
                return Beat(count: Int(row[0] ?? ""), detail: "at \(row[1] ?? "?")")
            case .message:
                let lsn = try connection.query(
                    "SELECT pg_logical_emit_message(true, $1, clock_timestamp()::text)::text",
                    [HeartbeatMessage.prefix]
                ).scalar
                return Beat(count: nil, detail: "message at LSN \(lsn ?? "?")")
            }
        }
    }

    /// The reasons a heartbeat would be written but never seen, each with its fix.
    private static func check(_ connection: PostgresConnection, via method: Method, publication: String) throws {
        try SourceChecks.requireLogicalDecoding(connection, consequence: ", so no heartbeat can reach Daybook")
        guard method == .table else { return }
        guard try connection.query("SELECT to_regclass('daybook.heartbeat') IS NOT NULL").scalar == "t" else {
            throw DaybookError(
                .heartbeatMissing,
                "there is no daybook.heartbeat table in this database: run `daybook setup` first"
            )
        }
        try SourceChecks.requirePublication(connection, publication)
        guard try SourceChecks.heartbeatIsPublished(connection, publication) else {
            throw DaybookError(
                .heartbeatMissing,
                "daybook.heartbeat is not in publication \(publication), so its updates never reach Daybook: run "
                    + "`daybook setup --publication \(publication)` (or ALTER PUBLICATION \(publication) ADD TABLE daybook.heartbeat)"
            )
        }
    }
}
