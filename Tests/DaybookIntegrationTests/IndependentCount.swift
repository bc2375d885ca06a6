import PostgresReplication

/// The independent count: audit triggers record every row change with its key, and
/// `pg_xact_commit_timestamp` gives its commit time. Nothing here uses Daybook's code; the
/// comparison is plain SQL over the audit log and Daybook's result tables.
enum IndependentCount {
    /// Creates the audit schema and its trigger function. Keys are JSON objects of the key
    /// columns' text values, the shape Daybook reports.
    static let installSQL = """
        CREATE SCHEMA audit;
        CREATE TABLE audit.log (
            id       bigserial PRIMARY KEY,
            tbl      text NOT NULL,
            op       text NOT NULL,
            key      jsonb,
            old_key  jsonb,
            txid     bigint NOT NULL DEFAULT txid_current()
        );
        CREATE FUNCTION audit.key_of(row_data jsonb, columns text[]) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
            SELECT jsonb_object_agg(c, row_data ->> c) FROM unnest(columns) AS c
        $$;
        CREATE FUNCTION audit.capture() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            tbl text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                INSERT INTO audit.log (tbl, op) VALUES (tbl, 'T');
            ELSIF TG_OP = 'INSERT' THEN
                INSERT INTO audit.log (tbl, op, key) VALUES (tbl, 'I', audit.key_of(to_jsonb(NEW), TG_ARGV));
            ELSIF TG_OP = 'UPDATE' THEN
                INSERT INTO audit.log (tbl, op, key, old_key)
                VALUES (tbl, 'U', audit.key_of(to_jsonb(NEW), TG_ARGV), audit.key_of(to_jsonb(OLD), TG_ARGV));
            ELSE
                INSERT INTO audit.log (tbl, op, key) VALUES (tbl, 'D', audit.key_of(to_jsonb(OLD), TG_ARGV));
            END IF;
            RETURN NULL;
        END $$;
        """

    /// Audits `table` with the given key columns (empty: counted per table only).
    static func auditSQL(table: String, keyColumns: [String]) -> String {
        let arguments = keyColumns.map { "'\($0)'" }.joined(separator: ", ")
        let name = table.replacingOccurrences(of: ".", with: "_")
        return """
            CREATE TRIGGER audit_\(name) AFTER INSERT OR UPDATE OR DELETE ON \(table)
                FOR EACH ROW EXECUTE FUNCTION audit.capture(\(arguments));
            CREATE TRIGGER audit_\(name)_truncate AFTER TRUNCATE ON \(table)
                FOR EACH STATEMENT EXECUTE FUNCTION audit.capture();
            """
    }

    /// Audit events with their commit time and window (`windowSeconds`-long windows in UTC).
    private static func eventsSQL(windowSeconds: Int) -> String {
        """
        WITH events AS (
            SELECT l.*, pg_xact_commit_timestamp(l.xmin) AS commit_time FROM audit.log l
        ), placed AS (
            SELECT e.*, 'epoch'::timestamptz
                       + floor(extract(epoch FROM e.commit_time) / \(windowSeconds)) * \(windowSeconds) * interval '1 second'
                       AS window_start
              FROM events e
        )
        """
    }

    /// Rows of the expected per-table results that Daybook's closed windows do not have, and
    /// the other way round. Empty means equal.
    static func tableMismatches(_ connection: PostgresConnection, windowSeconds: Int) throws -> [[String?]] {
        try connection.query(
            eventsSQL(windowSeconds: windowSeconds) + """
                , expected AS (
                    SELECT window_start, tbl AS table_name,
                           count(*) FILTER (WHERE op = 'I') AS inserts, count(*) FILTER (WHERE op = 'U') AS updates,
                           count(*) FILTER (WHERE op = 'D') AS deletes, count(*) FILTER (WHERE op = 'T') AS truncates,
                           count(DISTINCT txid) AS transactions,
                           (SELECT count(DISTINCT k) FROM placed p2,
                                   LATERAL unnest(ARRAY[p2.key, CASE WHEN p2.old_key IS DISTINCT FROM p2.key THEN p2.old_key END]) AS k
                             WHERE p2.window_start = p.window_start AND p2.tbl = p.tbl AND k IS NOT NULL
                               AND p2.op <> 'T' AND k <> '{}'::jsonb) AS keys,
                           min(commit_time) AS first_change_at, max(commit_time) AS last_change_at
                      FROM placed p GROUP BY window_start, tbl
                ), actual AS (
                    SELECT t.window_start, t.table_name, t.inserts, t.updates, t.deletes, t.truncates, t.transactions,
                           t.keys, t.first_change_at, t.last_change_at
                      FROM daybook.table_windows t JOIN daybook.windows w USING (slot_name, window_start)
                     WHERE w.status = 'closed'
                )
                (SELECT 'missing', * FROM (SELECT * FROM expected EXCEPT SELECT * FROM actual) a)
                UNION ALL
                (SELECT 'unexpected', * FROM (SELECT * FROM actual EXCEPT SELECT * FROM expected) b)
                """
        ).rows
    }

    /// The same for per-key rows: operations in commit order, first and last change.
    static func keyMismatches(_ connection: PostgresConnection, windowSeconds: Int) throws -> [[String?]] {
        try connection.query(
            eventsSQL(windowSeconds: windowSeconds) + """
                , key_ops AS (
                    SELECT window_start, tbl, key, CASE op WHEN 'U' THEN 'U' ELSE op END AS kop, id, 1 AS part, commit_time
                      FROM placed WHERE op IN ('I', 'D') OR (op = 'U' AND old_key = key)
                    UNION ALL
                    SELECT window_start, tbl, old_key, 'D', id, 0, commit_time FROM placed WHERE op = 'U' AND old_key <> key
                    UNION ALL
                    SELECT window_start, tbl, key, 'I', id, 1, commit_time FROM placed WHERE op = 'U' AND old_key <> key
                ), expected AS (
                    SELECT window_start, tbl AS table_name, key, string_agg(kop, '' ORDER BY id, part) AS ops,
                           min(commit_time) AS first_change_at, max(commit_time) AS last_change_at
                      FROM key_ops WHERE key IS NOT NULL AND key <> '{}'::jsonb
                     GROUP BY window_start, tbl, key
                ), actual AS (
                    SELECT k.window_start, k.table_name, k.key, k.ops, k.first_change_at, k.last_change_at
                      FROM daybook.key_windows k JOIN daybook.windows w USING (slot_name, window_start)
                     WHERE w.status = 'closed'
                )
                (SELECT 'missing', * FROM (SELECT * FROM expected EXCEPT SELECT * FROM actual) a)
                UNION ALL
                (SELECT 'unexpected', * FROM (SELECT * FROM actual EXCEPT SELECT * FROM expected) b)
                """
        ).rows
    }

    /// Windows that hold audited changes but are not closed in Daybook yet.
    static func unclosedWindows(_ connection: PostgresConnection, windowSeconds: Int) throws -> Int {
        Int(
            try connection.query(
                eventsSQL(windowSeconds: windowSeconds) + """
                    SELECT count(DISTINCT p.window_start) FROM placed p
                     WHERE NOT EXISTS (SELECT 1 FROM daybook.windows w
                                        WHERE w.window_start = p.window_start AND w.status = 'closed')
                    """
            ).scalar ?? "0") ?? 0
    }

    /// Number of audited changes.
    static func changeCount(_ connection: PostgresConnection) throws -> Int {
        Int(try connection.query("SELECT count(*) FROM audit.log").scalar ?? "0") ?? 0
    }
}
