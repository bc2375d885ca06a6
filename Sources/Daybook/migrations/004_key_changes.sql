-- Daybook sink schema, version 4: per-key changes of open windows are appended, not updated.
--
-- Each checkpoint appends one row per key it touched (binary COPY: no per-row SQL, no index
-- to maintain, no row rewritten however hot the key), and a window's rows are folded into
-- daybook.key_windows once, when it closes. A key's operations are its rows' ops in
-- (lsn, part) order. Rows count once the slot's checkpoint has passed their lsn; rows of a
-- large transaction written ahead of its commit (with checkpoint.pending_lsn set) are deleted
-- on restart if that commit never made it into a checkpoint.
CREATE TABLE daybook.key_changes (
    slot_name        text NOT NULL,
    window_start     timestamptz NOT NULL,
    table_name       text NOT NULL,
    key              text NOT NULL,          -- canonical JSON object text; jsonb once final
    ops              text NOT NULL,
    first_change_at  timestamptz NOT NULL,
    last_change_at   timestamptz NOT NULL,
    lsn              pg_lsn NOT NULL,        -- commit LSN of the latest source transaction in the row
    part             integer NOT NULL        -- order among rows with the same lsn
);

-- Set while rows of a large open transaction have been written ahead of its commit.
ALTER TABLE daybook.checkpoint ADD COLUMN pending_lsn pg_lsn;

-- Open windows' per-key rows move from key_windows (final rows only from now on).
INSERT INTO daybook.key_changes
SELECT k.slot_name, k.window_start, k.table_name, k.key::text, k.ops, k.first_change_at, k.last_change_at, '0/0', 0
  FROM daybook.key_windows k JOIN daybook.windows w USING (slot_name, window_start)
 WHERE w.status = 'open';
DELETE FROM daybook.key_windows k USING daybook.windows w
 WHERE w.slot_name = k.slot_name AND w.window_start = k.window_start AND w.status = 'open';

-- Per-key state of the open windows so far (what will become key_windows rows at close).
CREATE VIEW daybook.open_key_windows AS
SELECT c.slot_name, c.window_start, w.window_end, c.table_name, c.key::jsonb AS key,
       string_agg(c.ops, '' ORDER BY c.lsn, c.part) AS ops,
       min(c.first_change_at) AS first_change_at, max(c.last_change_at) AS last_change_at
  FROM daybook.key_changes c
  JOIN daybook.windows w USING (slot_name, window_start)
  JOIN daybook.checkpoint cp USING (slot_name)
 WHERE w.status = 'open' AND c.lsn < cp.lsn
 GROUP BY c.slot_name, c.window_start, w.window_end, c.table_name, c.key::jsonb;

-- Late changes count only once their transaction is in a checkpoint.
CREATE OR REPLACE VIEW daybook.table_summaries AS
SELECT t.window_start, t.window_end, t.table_name,
       t.inserts, t.updates, t.deletes, t.truncates, t.transactions, t.keys,
       t.first_change_at, t.last_change_at,
       (SELECT count(*) FROM daybook.late_changes l JOIN daybook.checkpoint cp USING (slot_name)
         WHERE l.slot_name = t.slot_name AND l.window_start = t.window_start
           AND l.table_name = t.table_name AND l.commit_lsn < cp.lsn) AS late,
       w.closed_at, w.closed_by, t.slot_name
  FROM daybook.table_windows t
  JOIN daybook.windows w USING (slot_name, window_start)
 WHERE w.status = 'closed';
