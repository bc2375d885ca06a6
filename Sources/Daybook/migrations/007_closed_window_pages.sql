-- Daybook sink schema, version 7: a closed window's per-key rows are indexed in the order the
-- API, the dashboard and `daybook report --keys` page them (table, first change, key), so a page
-- of a day of a million keys reads a hundred rows, not the day; and by key (as jsonb, as the
-- API is asked for one) with its events, so one key's events are found, not searched for.
--
-- The index is made once, when the window is finished, beside the stream; open windows get
-- none, so appending their rows costs what it did. It is made by a SECURITY DEFINER function,
-- as the partitions are, so `daybook run` needs no right to create indexes.
CREATE FUNCTION daybook.index_closed_window(ws timestamptz) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    suffix text := to_char(ws AT TIME ZONE 'UTC', 'YYYYMMDD"_"HH24MISS"_"US');
BEGIN
    IF to_regclass(format('daybook.%I', 'key_changes_' || suffix)) IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON daybook.%I (slot_name, window_start, table_name, first_change_at, key)',
                   'key_changes_' || suffix || '_pages', 'key_changes_' || suffix);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON daybook.%I (slot_name, table_name, (key::jsonb))',
                   'key_changes_' || suffix || '_keys', 'key_changes_' || suffix);
    -- Statistics now, not whenever autovacuum comes by: without them the planner takes a
    -- freshly filled partition for a small one and sorts a million rows for a page.
    EXECUTE format('ANALYZE daybook.%I', 'key_changes_' || suffix);
    IF to_regclass(format('daybook.%I', 'value_events_' || suffix)) IS NOT NULL THEN
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON daybook.%I (slot_name, table_name, key)',
                       'value_events_' || suffix || '_keys', 'value_events_' || suffix);
        EXECUTE format('ANALYZE daybook.%I', 'value_events_' || suffix);
    END IF;
END $$;

SELECT daybook.index_closed_window(window_start)
  FROM (SELECT DISTINCT window_start FROM daybook.windows WHERE status = 'closed') AS w;
