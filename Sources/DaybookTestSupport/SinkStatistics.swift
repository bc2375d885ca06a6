/// Puts a sink's tables in the state of a day that autovacuum has not analysed yet (or of a sink
/// restored from a dump): no statistics, no row estimates, and autovacuum kept from bringing
/// them back. The report tests and the close benchmark read a day in this state, since whether
/// a plan is fast must not depend on it. Needs a superuser (it writes the catalogs).
public enum SinkStatistics {
    public static let forgetSQL = """
        DO $$ DECLARE t regclass; BEGIN
            FOR t IN SELECT oid FROM pg_class WHERE relnamespace = 'daybook'::regnamespace AND relkind = 'r' LOOP
                EXECUTE format('ALTER TABLE %s SET (autovacuum_enabled = false)', t);
            END LOOP;
        END $$;
        DELETE FROM pg_statistic WHERE starelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'daybook'::regnamespace);
        UPDATE pg_class SET reltuples = -1, relpages = 0, relallvisible = 0
         WHERE relnamespace = 'daybook'::regnamespace AND relkind IN ('r', 'p', 'i');
        """

    /// Statistics for every table a report reads, as autovacuum would make them in time.
    public static let analyseSQL =
        "ANALYZE daybook.windows, daybook.table_windows, daybook.key_changes, daybook.value_events, daybook.key_values"
}
