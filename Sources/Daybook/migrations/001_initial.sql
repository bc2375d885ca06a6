-- Daybook sink schema, version 1.
-- Applied by `daybook migrate` inside one transaction; recorded in daybook.schema_migrations.

DO $$ BEGIN
    -- Only when missing: a sink role that owns a schema made for it need not create one.
    IF to_regnamespace('daybook') IS NULL THEN CREATE SCHEMA daybook; END IF;
END $$;

-- Microseconds since the Unix epoch to timestamptz, exactly (no floating point).
CREATE FUNCTION daybook.from_micros(bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN 'epoch'::timestamptz + $1 * interval '1 microsecond';

CREATE FUNCTION daybook.to_micros(timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (extract(epoch FROM $1) * 1000000)::bigint;

-- What a day did to one row, from its operations in commit order (I, U, D).
CREATE FUNCTION daybook.net_effect(ops text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE
        WHEN left(ops, 1) = 'I' AND right(ops, 1) = 'D' THEN 'created then deleted'
        WHEN left(ops, 1) = 'I' THEN 'created'
        WHEN left(ops, 1) = 'D' AND right(ops, 1) <> 'D' THEN 'deleted then recreated'
        WHEN right(ops, 1) = 'D' THEN 'deleted'
        ELSE 'updated'
    END;

-- One row per replication slot: where the stream was last committed, and the stream time.
CREATE TABLE daybook.checkpoint (
    slot_name      text PRIMARY KEY,
    lsn            pg_lsn NOT NULL,
    stream_time    timestamptz,
    window_length  text NOT NULL,
    grace          interval NOT NULL,
    time_zone      text NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Every window that received a change: open until stream time reaches closes_at.
CREATE TABLE daybook.windows (
    slot_name        text NOT NULL,
    window_start     timestamptz NOT NULL,
    window_end       timestamptz NOT NULL,
    closes_at        timestamptz NOT NULL,
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    opened_at        timestamptz NOT NULL DEFAULT now(),
    closed_at        timestamptz,
    closed_by        text CHECK (closed_by IN ('data', 'heartbeat', 'startup')),
    close_stream_time timestamptz,
    close_lsn        pg_lsn,
    PRIMARY KEY (slot_name, window_start)
);

-- Per (window, table) counts. Final once the window is closed; never changed after that.
CREATE TABLE daybook.table_windows (
    slot_name        text NOT NULL,
    window_start     timestamptz NOT NULL,
    window_end       timestamptz NOT NULL,
    table_name       text NOT NULL,
    inserts          bigint NOT NULL DEFAULT 0,
    updates          bigint NOT NULL DEFAULT 0,
    deletes          bigint NOT NULL DEFAULT 0,
    truncates        bigint NOT NULL DEFAULT 0,
    transactions     bigint NOT NULL DEFAULT 0,
    keys             bigint,
    first_change_at  timestamptz NOT NULL,
    last_change_at   timestamptz NOT NULL,
    PRIMARY KEY (slot_name, window_start, table_name)
);

-- Per (window, table, key) operations in commit order. Final once the window is closed.
CREATE TABLE daybook.key_windows (
    slot_name        text NOT NULL,
    window_start     timestamptz NOT NULL,
    window_end       timestamptz NOT NULL,
    table_name       text NOT NULL,
    key              jsonb NOT NULL,
    ops              text NOT NULL,
    first_change_at  timestamptz NOT NULL,
    last_change_at   timestamptz NOT NULL,
    PRIMARY KEY (slot_name, window_start, table_name, key)
);

-- Changes that arrived after their window had closed: kept, counted, never merged.
CREATE TABLE daybook.late_changes (
    id               bigserial PRIMARY KEY,
    slot_name        text NOT NULL,
    window_start     timestamptz NOT NULL,
    window_end       timestamptz NOT NULL,
    table_name       text NOT NULL,
    key              jsonb,
    op               text NOT NULL CHECK (op IN ('I', 'U', 'D', 'T')),
    commit_time      timestamptz NOT NULL,
    commit_lsn       pg_lsn NOT NULL,
    xid              bigint NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX late_changes_window ON daybook.late_changes (window_start, table_name);

-- Final per-table daily summaries: closed windows only.
CREATE VIEW daybook.table_summaries AS
SELECT t.window_start, t.window_end, t.table_name,
       t.inserts, t.updates, t.deletes, t.truncates, t.transactions, t.keys,
       t.first_change_at, t.last_change_at,
       (SELECT count(*) FROM daybook.late_changes l
         WHERE l.slot_name = t.slot_name AND l.window_start = t.window_start
           AND l.table_name = t.table_name) AS late,
       w.closed_at, w.closed_by, t.slot_name
  FROM daybook.table_windows t
  JOIN daybook.windows w USING (slot_name, window_start)
 WHERE w.status = 'closed';

-- Final per-key daily rows: closed windows only.
CREATE VIEW daybook.key_summaries AS
SELECT k.window_start, k.window_end, k.table_name, k.key, k.ops,
       k.first_change_at, k.last_change_at, daybook.net_effect(k.ops) AS net, k.slot_name
  FROM daybook.key_windows k
  JOIN daybook.windows w USING (slot_name, window_start)
 WHERE w.status = 'closed';

-- For dashboards: every window and how far it is from closing.
CREATE VIEW daybook.window_status AS
SELECT w.slot_name, w.window_start, w.window_end, w.closes_at, w.status, w.closed_at, w.closed_by,
       c.stream_time,
       CASE WHEN w.status = 'open' THEN w.closes_at - c.stream_time END AS stream_time_until_close
  FROM daybook.windows w
  LEFT JOIN daybook.checkpoint c USING (slot_name);
