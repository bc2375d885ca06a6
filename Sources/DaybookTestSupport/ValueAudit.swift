import PostgresReplication

/// The independent record for tables captured at `values`: audit triggers store each row
/// change's images as `hstore(NEW)` / `hstore(OLD)` (every column in PostgreSQL's own text
/// form, computed by the database, never by Daybook's code), and `pg_xact_commit_timestamp`
/// with the audit id gives the commit order. The expected events per key come from the
/// source, the actual ones from the sink's `daybook.key_events`, compared as sets of
/// (table, key, events in order), so the sink may be another server.
public enum ValueAudit {
    public static let installSQL = """
        CREATE EXTENSION IF NOT EXISTS hstore;
        CREATE SCHEMA audit_v;
        CREATE TABLE audit_v.log (
            id bigserial PRIMARY KEY, tbl text NOT NULL, op text NOT NULL,
            new_key jsonb, old_key jsonb, new_row jsonb, old_row jsonb, is_full boolean NOT NULL
        );
        CREATE FUNCTION audit_v.capture() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            keys text[] := string_to_array(TG_ARGV[0], ',');
            excluded text[] := coalesce(string_to_array(nullif(TG_ARGV[1], ''), ','), '{}');
            n jsonb; o jsonb;
            full_identity boolean := (SELECT relreplident = 'f' FROM pg_class WHERE oid = TG_RELID);
        BEGIN
            IF TG_OP <> 'DELETE' THEN n := hstore_to_jsonb(hstore(NEW)) - excluded; END IF;
            IF TG_OP <> 'INSERT' THEN o := hstore_to_jsonb(hstore(OLD)) - excluded; END IF;
            INSERT INTO audit_v.log (tbl, op, new_key, old_key, new_row, old_row, is_full)
            VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, left(TG_OP, 1),
                    (SELECT jsonb_object_agg(k, n -> k) FROM unnest(keys) k WHERE n IS NOT NULL),
                    (SELECT jsonb_object_agg(k, o -> k) FROM unnest(keys) k WHERE o IS NOT NULL),
                    n, o, full_identity);
            RETURN NULL;
        END $$;
        """

    /// Audits `table`'s row images; `keyColumns` as the table's key, `excluded` never recorded.
    public static func triggerSQL(table: String, keyColumns: [String], excluded: [String] = []) -> String {
        let name = "audit_v_" + table.split(separator: ".").joined(separator: "_")
        return """
            CREATE TRIGGER \(name) AFTER INSERT OR UPDATE OR DELETE ON \(table) FOR EACH ROW
                EXECUTE FUNCTION audit_v.capture('\(keyColumns.joined(separator: ","))', '\(excluded.joined(separator: ","))');
            """
    }

    /// Each key's expected events, in commit order, as one JSON array per (table, key). An
    /// update that changes the key is a delete on the old key and an insert on the new one.
    static let expectedSQL = """
        WITH a AS (SELECT l.*, pg_xact_commit_timestamp(l.xmin) AS ct FROM audit_v.log l),
        ev AS (
            SELECT tbl, CASE WHEN op = 'D' THEN old_key ELSE new_key END AS key, op,
                   CASE WHEN op = 'D' THEN NULL ELSE new_row END AS new_row,
                   CASE WHEN is_full THEN old_row END AS old_row, NULL::jsonb AS old_key, NULL::jsonb AS new_key, ct, id
              FROM a WHERE NOT (op = 'U' AND old_key <> new_key)
            UNION ALL
            SELECT tbl, old_key, 'D', NULL, CASE WHEN is_full THEN old_row END, NULL, new_key, ct, id
              FROM a WHERE op = 'U' AND old_key <> new_key
            UNION ALL
            SELECT tbl, new_key, 'I', new_row, NULL, old_key, NULL, ct, id
              FROM a WHERE op = 'U' AND old_key <> new_key
        )
        SELECT tbl, key::text, jsonb_agg(jsonb_build_object('op', op, 'row', new_row, 'old_row', old_row,
                                                            'old_key', old_key, 'new_key', new_key,
                                                            'at', to_char(ct AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'))
                                         ORDER BY ct, id)::text
          FROM ev GROUP BY tbl, key
        """

    /// The same from Daybook's sink: its `daybook.key_events` view (closed windows).
    static let actualSQL = """
        SELECT table_name, key::text,
               jsonb_agg(jsonb_build_object('op', op, 'row', new_row, 'old_row', old_row, 'old_key', old_key,
                                            'new_key', new_key,
                                            'at', to_char(commit_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'))
                         ORDER BY lsn, seq)::text
          FROM daybook.key_events GROUP BY table_name, key
        """

    /// Keys whose events differ, one line each ("missing" from the sink or "extra" in it),
    /// leaving out `except` (`"table key"` as printed by the queries).
    public static func mismatches(
        source: PostgresConnection,
        sink: PostgresConnection,
        except: Set<String> = []
    ) throws
        -> [String]
    {
        func rows(_ connection: PostgresConnection, _ sql: String) throws -> Set<[String]> {
            Set(
                try connection.query(sql).rows.map { $0.map { $0 ?? "" } }.filter {
                    !except.contains($0[0] + " " + $0[1])
                }
            )
        }
        let expected = try rows(source, expectedSQL)
        let actual = try rows(sink, actualSQL)
        return expected.subtracting(actual).map { "missing or different: \($0.joined(separator: " "))" }.sorted()
            + actual.subtracting(expected).map { "extra: \($0.joined(separator: " "))" }.sorted()
    }

    /// Keys with audited events.
    public static func keyCount(_ source: PostgresConnection) throws -> Int {
        try source.query("SELECT count(*) FROM (\(expectedSQL)) e").scalar.flatMap { Int($0) } ?? 0
    }
}
