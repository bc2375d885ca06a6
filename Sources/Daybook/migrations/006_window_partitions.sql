-- Daybook sink schema, version 6: per-key rows are written once and stay where they were
-- written, in one partition per window.
--
-- Until now a window's appended per-key rows were moved into daybook.key_windows when it
-- closed: every row deleted, grouped, parsed as jsonb and inserted into a jsonb primary key,
-- 120 s and more for a day of 10,000,000 keys, in the transaction that closes the window.
-- Now daybook.key_changes is partitioned by window start and its rows are the final result:
-- a key written by one checkpoint only (most keys) already has its one row; the writer flags
-- a row `repeated` when the key may have been written earlier in the window, and the close
-- merges only the flagged keys' rows into one row each. Closing then reads the window's
-- partition and rewrites only the keys that need it. daybook.key_windows stays as a view of
-- closed windows' rows, with the columns it had.
--
-- daybook.value_events is partitioned the same way and loses its indexes: maintaining a
-- jsonb-keyed index cost 7.5 µs per event on every checkpoint, more than the rest of the
-- sink's work. The close reads a window's events in key order from its partition, and the
-- image before a key's first event of the day comes from daybook.key_images, the latest image
-- of each key as of the windows already closed (one row per key, updated at close).
--
-- Closing happens in two steps, so that the stream never waits for it: the checkpoint that
-- decides a window's close marks it 'closing' (from then on its changes are late), and the
-- service then merges its keys, counts them, folds its events and marks it 'closed' in a
-- transaction of its own, on a connection of its own, announcing it with NOTIFY. Readers see
-- a window once it is 'closed', with its final rows.
--
-- Partitions are named key_changes_<window start, UTC> and value_events_<window start, UTC>
-- and created by daybook.ensure_window_partitions when a window first gets rows. It runs as the role that
-- migrated (SECURITY DEFINER, owner of daybook.key_changes), so `daybook run` needs no DDL
-- rights of its own.

ALTER TABLE daybook.windows DROP CONSTRAINT windows_status_check;
ALTER TABLE daybook.windows ADD CONSTRAINT windows_status_check CHECK (status IN ('open', 'closing', 'closed'));

DROP VIEW daybook.open_key_windows;
DROP VIEW daybook.key_value_summaries;
DROP VIEW daybook.key_summaries;
DROP VIEW daybook.key_events;
ALTER TABLE daybook.key_changes RENAME TO key_changes_v5;
ALTER TABLE daybook.value_events RENAME TO value_events_v5;

CREATE TABLE daybook.key_changes (
    slot_name        text NOT NULL,
    window_start     timestamptz NOT NULL,
    table_name       text NOT NULL,
    key              text NOT NULL,          -- canonical JSON object text
    ops              text NOT NULL,          -- operation letters, compact past 64 (daybook.compact_ops)
    first_change_at  timestamptz NOT NULL,
    last_change_at   timestamptz NOT NULL,
    lsn              pg_lsn NOT NULL,        -- commit LSN of the latest source transaction in the row
    part             integer NOT NULL,       -- order among rows with the same lsn
    repeated         boolean NOT NULL DEFAULT true  -- the key may have an earlier row in the window
) PARTITION BY LIST (window_start);

CREATE TABLE daybook.value_events (
    slot_name      text NOT NULL,
    window_start   timestamptz NOT NULL,
    table_name     text NOT NULL,
    -- The key and the images are JSON text exactly as Daybook wrote it (the key in the same
    -- canonical form as key_changes.key), not json or jsonb: the sink neither parses nor
    -- validates nor sorts every image of every change, which cost as much CPU as the
    -- walsender's and about a third of the COPY. daybook.key_events shows them as jsonb.
    key            text NOT NULL,
    lsn            pg_lsn NOT NULL,     -- commit LSN of the source transaction
    seq            integer NOT NULL,    -- position of the change in its transaction
    op             text NOT NULL CHECK (op IN ('I', 'U', 'D')),
    commit_time    timestamptz NOT NULL,
    new_row        text,                -- after the change (INSERT, UPDATE)
    old_row        text,                -- before it, when the stream carried it whole (identity FULL)
    old_key        text,                -- on the new key of a row whose key changed: the key before
    new_key        text,                -- on the old key of a row whose key changed: the key after
    unchanged      text                 -- columns whose unchanged TOASTed value is not known
) PARTITION BY LIST (window_start);

-- Per slot, table and key of a 'values' table: the row after the key's latest event in a closed
-- window (NULL after a delete), where the next day's first event of the key starts from.
CREATE TABLE daybook.key_images (
    slot_name      text NOT NULL,
    table_name     text NOT NULL,
    key            text NOT NULL,       -- as value_events.key
    lsn            pg_lsn NOT NULL,
    seq            integer NOT NULL,
    image          text,                -- JSON text, as value_events.new_row
    PRIMARY KEY (slot_name, table_name, key)
);

-- Creates the partitions of one window start unless they exist. Serialised by an advisory
-- lock, so that two writers (two slots with the same windows) never race; ATTACH takes only a
-- SHARE UPDATE EXCLUSIVE lock on the parent, so readers and writers of other windows go on.
CREATE FUNCTION daybook.ensure_window_partitions(ws timestamptz) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    suffix text := to_char(ws AT TIME ZONE 'UTC', 'YYYYMMDD"_"HH24MISS"_"US');
    parent text;
BEGIN
    IF to_regclass(format('daybook.%I', 'value_events_' || suffix)) IS NOT NULL THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('daybook.ensure_window_partitions'));
    FOREACH parent IN ARRAY ARRAY['key_changes', 'value_events'] LOOP
        IF to_regclass(format('daybook.%I', parent || '_' || suffix)) IS NULL THEN
            EXECUTE format('CREATE TABLE daybook.%I (LIKE daybook.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', parent || '_' || suffix, parent);
            EXECUTE format('ALTER TABLE daybook.%I ATTACH PARTITION daybook.%I FOR VALUES IN (%L)',
                           parent, parent || '_' || suffix, ws);
        END IF;
    END LOOP;
END $$;

SELECT daybook.ensure_window_partitions(ws)
  FROM (SELECT window_start FROM daybook.key_changes_v5 UNION SELECT window_start FROM daybook.key_windows
        UNION SELECT window_start FROM daybook.value_events_v5) AS w(ws);

-- Version 5 kept keys as jsonb, whose text differs from Daybook's canonical form (spaces,
-- composite keys' column order): a key converted here is matched by its later events only if
-- they are written the same way, so the first event of such a key after the upgrade may show
-- its image before the day as unknown. Its counts and events are unaffected.
INSERT INTO daybook.value_events
SELECT slot_name, window_start, table_name, key::text, lsn, seq, op, commit_time,
       new_row::text, old_row::text, old_key::text, new_key::text, unchanged::text
  FROM daybook.value_events_v5;
INSERT INTO daybook.key_images (slot_name, table_name, key, lsn, seq, image)
SELECT DISTINCT ON (v.slot_name, v.table_name, v.key) v.slot_name, v.table_name, v.key::text, v.lsn, v.seq, v.new_row::text
  FROM daybook.value_events_v5 v
  JOIN daybook.windows w ON w.slot_name = v.slot_name AND w.window_start = v.window_start
 WHERE w.status = 'closed'
 ORDER BY v.slot_name, v.table_name, v.key, v.lsn DESC, v.seq DESC;
DROP TABLE daybook.value_events_v5;

-- Closed windows' final rows, one per key.
INSERT INTO daybook.key_changes
SELECT slot_name, window_start, table_name, key::text, ops, first_change_at, last_change_at, '0/0', 0, false
  FROM daybook.key_windows;
-- Open windows' rows, flagged: whether they repeat a key is not known, so the close merges them.
INSERT INTO daybook.key_changes
SELECT slot_name, window_start, table_name, key, ops, first_change_at, last_change_at, lsn, part, true
  FROM daybook.key_changes_v5;
DROP TABLE daybook.key_changes_v5;
DROP TABLE daybook.key_windows;

-- Per (window, table, key) operations in commit order, of closed windows: their final rows.
-- Filter on window_start to read one window's partition only.
CREATE VIEW daybook.key_windows AS
SELECT c.slot_name, c.window_start, w.window_end, c.table_name, c.key::jsonb AS key, c.ops,
       c.first_change_at, c.last_change_at
  FROM daybook.key_changes c
  JOIN daybook.windows w ON w.slot_name = c.slot_name AND w.window_start = c.window_start
 WHERE w.status = 'closed';

-- Per-key state of the windows not closed yet (what will be their key_windows rows at close).
-- The ops functions run only where needed (a row already compact, a result past 64 letters):
-- a SQL function call per row costs more than the rest of the query.
CREATE VIEW daybook.open_key_windows AS
SELECT a.slot_name, a.window_start, a.window_end, a.table_name, a.key,
       CASE WHEN length(a.ops) <= 64 THEN a.ops ELSE daybook.compact_ops(a.ops) END AS ops,
       a.first_change_at, a.last_change_at
  FROM (SELECT c.slot_name, c.window_start, w.window_end, c.table_name, c.key::jsonb AS key,
               string_agg(CASE WHEN c.ops ~ '^[IUD]*$' THEN c.ops ELSE daybook.expand_ops(c.ops) END, ''
                          ORDER BY c.lsn, c.part) AS ops,
               min(c.first_change_at) AS first_change_at, max(c.last_change_at) AS last_change_at
          FROM daybook.key_changes c
          JOIN daybook.windows w ON w.slot_name = c.slot_name AND w.window_start = c.window_start
          JOIN daybook.checkpoint cp ON cp.slot_name = c.slot_name
         WHERE w.status <> 'closed' AND c.lsn < cp.lsn
         GROUP BY c.slot_name, c.window_start, w.window_end, c.table_name, c.key::jsonb) a;

-- Final per-key daily rows: closed windows only.
CREATE VIEW daybook.key_summaries AS
SELECT k.window_start, k.window_end, k.table_name, k.key, k.ops,
       k.first_change_at, k.last_change_at, daybook.net_effect(k.ops) AS net, k.slot_name
  FROM daybook.key_windows k;

-- Key summaries carry what the values level knows: the changed columns and left-out events.
CREATE VIEW daybook.key_value_summaries AS
SELECT k.window_start, k.window_end, k.table_name, k.key, k.ops, daybook.net_effect(k.ops) AS net,
       k.first_change_at, k.last_change_at, v.before_image, v.changed, v.events, v.truncated, k.slot_name
  FROM daybook.key_windows k
  JOIN daybook.key_values v ON v.slot_name = k.slot_name AND v.window_start = k.window_start
                           AND v.table_name = k.table_name AND v.key = k.key;

-- Each closed window's events per key, in commit order, for SQL users and dashboards.
CREATE VIEW daybook.key_events AS
SELECT e.slot_name, e.window_start, w.window_end, e.table_name, e.key::jsonb AS key, e.op, e.commit_time, e.lsn, e.seq,
       e.new_row::jsonb AS new_row, e.old_row::jsonb AS old_row, e.old_key::jsonb AS old_key,
       e.new_key::jsonb AS new_key, e.unchanged::jsonb AS unchanged
  FROM daybook.value_events e
  JOIN daybook.windows w ON w.slot_name = e.slot_name AND w.window_start = e.window_start
 WHERE w.status = 'closed';
