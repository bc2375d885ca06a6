import PostgresReplication

/// The fake update: one row in `daybook.heartbeat`, updated in its own transaction.
///
/// The update travels through the replication stream like any change, and its commit time
/// moves stream time forward, so windows close on a quiet database. It never appears in a
/// summary.
public enum Heartbeat {
    static let createTableSQL = """
        CREATE SCHEMA IF NOT EXISTS daybook;
        CREATE TABLE IF NOT EXISTS daybook.heartbeat (
            id      integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
            beat_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            beats   bigint NOT NULL DEFAULT 0
        );
        INSERT INTO daybook.heartbeat (id) VALUES (1) ON CONFLICT (id) DO NOTHING;
        """

    /// Updates the heartbeat row.
    /// - Returns: the beat count and its time, as the database recorded them.
    @discardableResult
    public static func beat(on connection: PostgresConnection) throws(DaybookError) -> (beats: Int, at: String) {
        do {
            let result = try connection.query(
                """
                UPDATE daybook.heartbeat SET beat_at = clock_timestamp(), beats = beats + 1 WHERE id = 1
                RETURNING beats, beat_at::text
                """)
            guard let row = result.rows.first else {
                throw DaybookError(.heartbeatMissing, "the heartbeat row is missing: run `daybook setup` to recreate it")
            }
            return (Int(row[0] ?? "") ?? 0, row[1] ?? "")
        } catch let error as DaybookError {
            throw error
        } catch let error as PostgresError {
            if error.sqlState == "42P01" || error.sqlState == "3F000" {
                throw DaybookError(.heartbeatMissing, "there is no daybook.heartbeat table in this database: run `daybook setup` first")
            }
            throw DaybookError.from(error, role: "source")
        } catch {
            throw DaybookError(.query, "\(error)")
        }
    }
}
