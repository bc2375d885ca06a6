-- Daybook sink schema, version 5: capture levels per table, and each change's values.

-- Per slot and table: how much Daybook keeps of its changes, from a point in the stream on.
-- A rule applies to source transactions whose commit lies after since_lsn (the position of
-- the `daybook.capture` message that announced it); the newest rule before a transaction wins.
-- Tables without a rule are captured at 'keys'.
CREATE TABLE daybook.capture (
    slot_name        text NOT NULL,
    table_name       text NOT NULL,
    level            text NOT NULL CHECK (level IN ('counts', 'keys', 'values')),
    columns          text[],                      -- 'values': only these (and the key); NULL: all
    excluded_columns text[] NOT NULL DEFAULT '{}', -- 'values': never these
    since_lsn        pg_lsn NOT NULL,
    set_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (slot_name, table_name, since_lsn)
);

-- The levels a (window, table) was captured at: 1 counts, 2 keys, 4 values (more than one bit
-- when its level changed during the window). Rows written before version 5 were 'keys'.
ALTER TABLE daybook.table_windows ADD COLUMN levels integer NOT NULL DEFAULT 2;
ALTER TABLE daybook.table_windows ALTER COLUMN levels SET DEFAULT 0;

-- The names of the levels in a levels bit set, lowest first: 'keys', 'keys+values'.
CREATE FUNCTION daybook.level_names(levels integer) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN nullif(concat_ws('+', CASE WHEN levels & 1 <> 0 THEN 'counts' END,
                                 CASE WHEN levels & 2 <> 0 THEN 'keys' END,
                                 CASE WHEN levels & 4 <> 0 THEN 'values' END), '');

-- Every change of a 'values' table with its row images, appended by binary COPY with each
-- checkpoint. Like key_changes, a row counts once the slot's checkpoint has passed its lsn
-- (the commit LSN of its transaction); rows of a large transaction written ahead of its commit
-- are deleted on restart if that commit never reached a checkpoint. Images are JSON objects of
-- column to text value (PostgreSQL's text form; NULL as null).
CREATE TABLE daybook.value_events (
    slot_name      text NOT NULL,
    window_start   timestamptz NOT NULL,
    table_name     text NOT NULL,
    key            jsonb NOT NULL,
    lsn            pg_lsn NOT NULL,     -- commit LSN of the source transaction
    seq            integer NOT NULL,    -- position of the change in its transaction
    op             text NOT NULL CHECK (op IN ('I', 'U', 'D')),
    commit_time    timestamptz NOT NULL,
    new_row        jsonb,               -- after the change (INSERT, UPDATE)
    old_row        jsonb,               -- before it, when the stream carried it whole (identity FULL)
    old_key        jsonb,               -- on the new key of a row whose key changed: the key before
    new_key        jsonb,               -- on the old key of a row whose key changed: the key after
    unchanged      jsonb                -- columns whose unchanged TOASTed value is not known
);
CREATE INDEX value_events_key ON daybook.value_events (slot_name, table_name, key, lsn, seq);
CREATE INDEX value_events_window ON daybook.value_events (slot_name, window_start);

-- Per key of a closed window of a 'values' table: what the day's events add to key_windows.
-- Written once, when the window closes.
CREATE TABLE daybook.key_values (
    slot_name      text NOT NULL,
    window_start   timestamptz NOT NULL,
    table_name     text NOT NULL,
    key            jsonb NOT NULL,
    before_image   text NOT NULL CHECK (before_image IN ('known', 'none', 'unknown')),
    changed        jsonb NOT NULL,      -- column -> {"before": value, "after": value}
    events         bigint NOT NULL,     -- events of the key in the window
    truncated      bigint NOT NULL DEFAULT 0,  -- of those, left out (over --max-events-per-key)
    PRIMARY KEY (slot_name, window_start, table_name, key)
);

-- Each closed window's events per key, in commit order, for SQL users and dashboards.
CREATE VIEW daybook.key_events AS
SELECT e.slot_name, e.window_start, w.window_end, e.table_name, e.key, e.op, e.commit_time, e.lsn, e.seq,
       e.new_row, e.old_row, e.old_key, e.new_key, e.unchanged
  FROM daybook.value_events e
  JOIN daybook.windows w USING (slot_name, window_start)
 WHERE w.status = 'closed';

-- Key summaries carry what the values level knows: the changed columns and left-out events.
CREATE VIEW daybook.key_value_summaries AS
SELECT k.window_start, k.window_end, k.table_name, k.key, k.ops, daybook.net_effect(k.ops) AS net,
       k.first_change_at, k.last_change_at, v.before_image, v.changed, v.events, v.truncated, k.slot_name
  FROM daybook.key_windows k
  JOIN daybook.key_values v USING (slot_name, window_start, table_name, key)
  JOIN daybook.windows w USING (slot_name, window_start)
 WHERE w.status = 'closed';

-- Retention (`daybook prune`): what was removed from a closed window, and when. 'keys': its
-- per-key rows and events (the per-table summaries stay); 'all': everything but this row, so a
-- report for the day says it was pruned rather than "no changes".
ALTER TABLE daybook.windows ADD COLUMN pruned text CHECK (pruned IN ('keys', 'all'));
ALTER TABLE daybook.windows ADD COLUMN pruned_at timestamptz;

-- A hot key's operations, compactly: past 64 letters, each run of one letter is written as
-- the letter and its count ('U×999998'), runs separated by spaces ('I U×999998 D'), when that
-- is shorter. Anything but letters marks the compact form. expand_ops is the inverse, op_count the number
-- of operations.
CREATE FUNCTION daybook.compact_ops(ops text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN length(ops) <= 64 THEN ops ELSE (
        SELECT CASE WHEN length(c.runs) < length(ops) THEN c.runs ELSE ops END
          FROM (SELECT string_agg(CASE WHEN length(r.m[1]) = 1 THEN r.m[1]
                                       ELSE left(r.m[1], 1) || '×' || length(r.m[1]) END, ' ' ORDER BY r.n) AS runs
                  FROM regexp_matches(ops, '(([IUD])\2*)', 'g') WITH ORDINALITY AS r(m, n)) c) END;

CREATE FUNCTION daybook.expand_ops(ops text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN ops ~ '^[IUD]*$' THEN ops ELSE (
        SELECT string_agg(repeat(left(t.run, 1), coalesce(substring(t.run FROM '[0-9]+$')::integer, 1)), '' ORDER BY t.n)
          FROM regexp_split_to_table(ops, ' ') WITH ORDINALITY AS t(run, n)) END;

CREATE FUNCTION daybook.op_count(ops text) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN ops ~ '^[IUD]*$' THEN length(ops) ELSE (
        SELECT sum(coalesce(substring(t.run FROM '[0-9]+$')::bigint, 1))
          FROM regexp_split_to_table(ops, ' ') AS t(run)) END;

-- The last operation is the last letter, also in the compact form.
CREATE OR REPLACE FUNCTION daybook.net_effect(ops text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE
        WHEN left(ops, 1) = 'I' AND substring(ops FROM '([IUD])[^IUD]*$') = 'D' THEN 'created then deleted'
        WHEN left(ops, 1) = 'I' THEN 'created'
        WHEN left(ops, 1) = 'D' AND substring(ops FROM '([IUD])[^IUD]*$') <> 'D' THEN 'deleted then recreated'
        WHEN substring(ops FROM '([IUD])[^IUD]*$') = 'D' THEN 'deleted'
        ELSE 'updated'
    END;

CREATE OR REPLACE VIEW daybook.open_key_windows AS
SELECT c.slot_name, c.window_start, w.window_end, c.table_name, c.key::jsonb AS key,
       daybook.compact_ops(string_agg(c.ops, '' ORDER BY c.lsn, c.part)) AS ops,
       min(c.first_change_at) AS first_change_at, max(c.last_change_at) AS last_change_at
  FROM daybook.key_changes c
  JOIN daybook.windows w USING (slot_name, window_start)
  JOIN daybook.checkpoint cp USING (slot_name)
 WHERE w.status = 'open' AND c.lsn < cp.lsn
 GROUP BY c.slot_name, c.window_start, w.window_end, c.table_name, c.key::jsonb;
