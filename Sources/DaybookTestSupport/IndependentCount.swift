import PostgresReplication

/// The independent count: audit triggers record every row change with its key, and
/// `pg_xact_commit_timestamp` gives its commit time. Nothing here uses Daybook's code. The
/// expected rows come from the source's audit log, the actual rows from the sink, each as
/// text in UTC, and are compared as multisets, so the sink may be another server.
public enum IndependentCount {
    /// Creates the audit schema and its trigger function. Keys are JSON objects of the key
    /// columns' text values, the shape Daybook reports.
    public static let installSQL = """
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
    public static func auditSQL(table: String, keyColumns: [String]) -> String {
        let arguments = keyColumns.map { "'\($0)'" }.joined(separator: ", ")
        let name = table.split(separator: ".").joined(separator: "_")
        return """
            CREATE TRIGGER audit_\(name) AFTER INSERT OR UPDATE OR DELETE ON \(table)
                FOR EACH ROW EXECUTE FUNCTION audit.capture(\(arguments));
            CREATE TRIGGER audit_\(name)_truncate AFTER TRUNCATE ON \(table)
                FOR EACH STATEMENT EXECUTE FUNCTION audit.capture();
            """
    }

    /// A timestamp as comparable text in UTC.
    private static func utc(_ expression: String) -> String {
        "to_char(\(expression) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
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

    /// Per (window, table): counts, transactions, distinct keys, first and last change.
    public static func expectedTables(_ source: PostgresConnection, windowSeconds: Int) throws -> [[String?]] {
        try source.query(
            eventsSQL(windowSeconds: windowSeconds) + """
                , key_counts AS (
                    SELECT window_start, tbl, count(DISTINCT k) AS keys
                      FROM placed, LATERAL unnest(ARRAY[key, CASE WHEN old_key IS DISTINCT FROM key THEN old_key END]) AS k
                     WHERE k IS NOT NULL AND op <> 'T'
                     GROUP BY window_start, tbl
                ), counts AS (
                    SELECT window_start, tbl,
                           count(*) FILTER (WHERE op = 'I') AS i, count(*) FILTER (WHERE op = 'U') AS u,
                           count(*) FILTER (WHERE op = 'D') AS d, count(*) FILTER (WHERE op = 'T') AS t,
                           count(DISTINCT txid) AS x, min(commit_time) AS first, max(commit_time) AS last
                      FROM placed GROUP BY window_start, tbl
                )
                SELECT \(utc("c.window_start")), c.tbl, c.i, c.u, c.d, c.t, c.x, coalesce(k.keys, 0),
                       \(utc("c.first")), \(utc("c.last"))
                  FROM counts c LEFT JOIN key_counts k USING (window_start, tbl)
                """
        ).rows
    }

    /// Daybook's closed per-table results, in the same shape.
    public static func actualTables(_ sink: PostgresConnection) throws -> [[String?]] {
        try sink.query(
            """
            SELECT \(utc("t.window_start")), t.table_name, t.inserts, t.updates, t.deletes, t.truncates, t.transactions,
                   t.keys, \(utc("t.first_change_at")), \(utc("t.last_change_at"))
              FROM daybook.table_windows t JOIN daybook.windows w USING (slot_name, window_start)
             WHERE w.status = 'closed'
            """
        ).rows
    }

    /// Per (window, table, key): operations in commit order, first and last change. A key
    /// change is a delete of the old key and an insert of the new one.
    public static func expectedKeys(_ source: PostgresConnection, windowSeconds: Int) throws -> [[String?]] {
        try source.query(
            eventsSQL(windowSeconds: windowSeconds) + """
                , key_ops AS (
                    SELECT window_start, tbl, key, op AS kop, id, 1 AS part, commit_time
                      FROM placed WHERE op IN ('I', 'D') OR (op = 'U' AND old_key = key)
                    UNION ALL
                    SELECT window_start, tbl, old_key, 'D', id, 0, commit_time FROM placed WHERE op = 'U' AND old_key <> key
                    UNION ALL
                    SELECT window_start, tbl, key, 'I', id, 1, commit_time FROM placed WHERE op = 'U' AND old_key <> key
                )
                SELECT \(utc("window_start")), tbl, key::text, string_agg(kop, '' ORDER BY id, part),
                       \(utc("min(commit_time)")), \(utc("max(commit_time)"))
                  FROM key_ops WHERE key IS NOT NULL
                 GROUP BY window_start, tbl, key
                """
        ).rows
    }

    /// Daybook's closed per-key results, in the same shape.
    public static func actualKeys(_ sink: PostgresConnection) throws -> [[String?]] {
        try sink.query(
            """
            SELECT \(utc("k.window_start")), k.table_name, k.key::text, daybook.expand_ops(k.ops),
                   \(utc("k.first_change_at")), \(utc("k.last_change_at"))
              FROM daybook.key_windows k JOIN daybook.windows w USING (slot_name, window_start)
             WHERE w.status = 'closed'
            """
        ).rows
    }

    /// Rows only one side has, marked `missing` (expected, not in Daybook) or `unexpected`.
    /// Empty means equal, duplicates included.
    public static func difference(expected: [[String?]], actual: [[String?]]) -> [String] {
        func key(_ row: [String?]) -> String { row.map { $0 ?? "NULL" }.joined(separator: " | ") }
        var counts: [String: Int] = [:]
        for row in expected { counts[key(row), default: 0] += 1 }
        for row in actual { counts[key(row), default: 0] -= 1 }
        return counts.filter { $0.value != 0 }.sorted { $0.key < $1.key }.map { row, count in
            (count > 0 ? "missing: " : "unexpected: ") + row + (abs(count) > 1 ? " (×\(abs(count)))" : "")
        }
    }

    public static func tableMismatches(
        source: PostgresConnection,
        sink: PostgresConnection,
        windowSeconds: Int
    ) throws
        -> [String]
    {
        difference(expected: try expectedTables(source, windowSeconds: windowSeconds), actual: try actualTables(sink))
    }

    public static func keyMismatches(
        source: PostgresConnection,
        sink: PostgresConnection,
        windowSeconds: Int
    ) throws
        -> [String]
    {
        difference(expected: try expectedKeys(source, windowSeconds: windowSeconds), actual: try actualKeys(sink))
    }

    /// Window starts (UTC text) that hold audited changes.
    public static func auditedWindows(_ source: PostgresConnection, windowSeconds: Int) throws -> Set<String> {
        Set(
            try source.query(
                eventsSQL(windowSeconds: windowSeconds) + "SELECT DISTINCT \(utc("window_start")) FROM placed"
            )
            .rows.compactMap { $0[0] }
        )
    }

    /// Window starts (UTC text) that Daybook has closed.
    public static func closedWindows(_ sink: PostgresConnection) throws -> Set<String> {
        Set(
            try sink.query("SELECT \(utc("window_start")) FROM daybook.windows WHERE status = 'closed'").rows.compactMap
            {
                $0[0]
            }
        )
    }

    /// Windows that hold audited changes but are not closed in Daybook yet.
    public static func unclosedWindows(
        source: PostgresConnection,
        sink: PostgresConnection,
        windowSeconds: Int
    ) throws -> Int {
        try auditedWindows(source, windowSeconds: windowSeconds).subtracting(try closedWindows(sink)).count
    }

    /// Window starts (UTC text, `windowSeconds`-long windows) that a gap recorded in the sink
    /// (`run --accept-gap`) may touch: those that overlap its span of commit times.
    public static func windowsTouchedByGaps(_ sink: PostgresConnection, windowSeconds: Int) throws -> Set<String> {
        Set(
            try sink.query(
                """
                SELECT \(utc("w"))
                  FROM daybook.gaps,
                       generate_series(to_timestamp(floor(extract(epoch FROM from_time) / \(windowSeconds)) * \(windowSeconds)),
                                       until_time, interval '\(windowSeconds) seconds') w
                """
            ).rows.compactMap { $0[0] }
        )
    }

    /// ``tableMismatches(source:sink:windowSeconds:)`` outside the windows `excluded`.
    public static func tableMismatches(
        source: PostgresConnection,
        sink: PostgresConnection,
        windowSeconds: Int,
        excluding excluded: Set<String>
    ) throws -> [String] {
        difference(
            expected: try expectedTables(source, windowSeconds: windowSeconds).filter {
                !excluded.contains($0[0] ?? "")
            },
            actual: try actualTables(sink).filter { !excluded.contains($0[0] ?? "") }
        )
    }

    /// Number of audited changes.
    public static func changeCount(_ source: PostgresConnection) throws -> Int {
        Int(try source.query("SELECT count(*) FROM audit.log").scalar ?? "0") ?? 0
    }
}

extension IndependentCount {
    /// The same checks when source and sink are one database (the integration tests).
    public static func tableMismatches(_ database: PostgresConnection, windowSeconds: Int) throws -> [String] {
        try tableMismatches(source: database, sink: database, windowSeconds: windowSeconds)
    }

    public static func keyMismatches(_ database: PostgresConnection, windowSeconds: Int) throws -> [String] {
        try keyMismatches(source: database, sink: database, windowSeconds: windowSeconds)
    }

    public static func unclosedWindows(_ database: PostgresConnection, windowSeconds: Int) throws -> Int {
        try unclosedWindows(source: database, sink: database, windowSeconds: windowSeconds)
    }
}
