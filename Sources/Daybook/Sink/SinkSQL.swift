/// The sink's set-based statements. `$1` is always the slot name; `$2` a JSON array built by
/// ``CheckpointPayload``.
enum SinkSQL {
    static let upsertTables = """
        INSERT INTO daybook.table_windows AS t
               (slot_name, window_start, window_end, table_name, inserts, updates, deletes, truncates, transactions,
                first_change_at, last_change_at, levels)
        SELECT $1, w.window_start, w.window_end, x.t, x.i, x.u, x.d, x.tr, x.tx,
               daybook.from_micros(x.f), daybook.from_micros(x.l), x.lv
          FROM jsonb_to_recordset($2::jsonb) AS x(ws bigint, t text, i bigint, u bigint, d bigint, tr bigint, tx bigint,
                                                  f bigint, l bigint, lv integer)
          JOIN daybook.windows w ON w.slot_name = $1 AND w.window_start = daybook.from_micros(x.ws)
        ON CONFLICT (slot_name, window_start, table_name) DO UPDATE SET
               inserts = t.inserts + excluded.inserts,
               updates = t.updates + excluded.updates,
               deletes = t.deletes + excluded.deletes,
               truncates = t.truncates + excluded.truncates,
               transactions = t.transactions + excluded.transactions,
               first_change_at = least(t.first_change_at, excluded.first_change_at),
               last_change_at = greatest(t.last_change_at, excluded.last_change_at),
               levels = t.levels | excluded.levels
        """

    static let copyKeyChanges = """
        COPY daybook.key_changes
             (slot_name, window_start, table_name, key, ops, first_change_at, last_change_at, lsn, part, repeated)
        FROM STDIN (FORMAT binary)
        """

    static let copyValueEvents = """
        COPY daybook.value_events
             (slot_name, window_start, table_name, key, lsn, seq, op, commit_time, new_row, old_row, old_key, new_key,
              unchanged, actor)
        FROM STDIN (FORMAT binary)
        """

    static let copyStreamChunks = """
        COPY daybook.stream_chunks (slot_name, xid, first_seq, messages) FROM STDIN (FORMAT binary)
        """

    static let deleteStreamChunks = "DELETE FROM daybook.stream_chunks WHERE slot_name = $1 AND xid = $2"

    /// Records capture rules the stream announced (`daybook capture` usually has already).
    /// Records tables' new shapes (``TableShape``); a replay after a crash finds them there.
    static let insertTableShapes = """
        INSERT INTO daybook.table_shapes
               (slot_name, relid, lsn, commit_time, schema_name, table_name, replica_identity, columns)
        SELECT $1, x.relid, x.lsn::pg_lsn, daybook.from_micros(x.commit_micros), x.schema_name, x.table_name,
               x.replica_identity, x.columns
          FROM jsonb_to_recordset($2::jsonb)
               AS x(relid oid, lsn text, commit_micros bigint, schema_name text, table_name text,
                    replica_identity text, columns jsonb)
        ON CONFLICT (slot_name, relid, lsn) DO NOTHING
        """

    /// The latest shape the sink kept of each table.
    static let latestTableShapes = """
        SELECT DISTINCT ON (relid) relid::text, schema_name, table_name, replica_identity, columns::text
          FROM daybook.table_shapes WHERE slot_name = $1
         ORDER BY relid, lsn DESC
        """

    /// The source's row estimates (`$3`, table name to rows) on the closing windows' per-table
    /// rows (`$2`, as ``CheckpointPayload/closed(_:)``): the digest's measure of mass deletes.
    static let recordSourceRows = """
        UPDATE daybook.table_windows t SET source_rows = e.value::bigint
          FROM jsonb_to_recordset($2::jsonb) AS c(ws bigint), jsonb_each_text($3::jsonb) AS e
         WHERE t.slot_name = $1 AND t.window_start = daybook.from_micros(c.ws) AND t.table_name = e.key
        """

    /// Attributed changes (`$2`, as ``CheckpointPayload/attribution(_:tableNames:)``) added to
    /// their rows; then, for each table and window with more than `$3` rows, all but the `$3 - 1`
    /// largest are summed into the row with an empty actor, application and origin.
    static let addAttribution = """
        INSERT INTO daybook.actor_windows AS w (slot_name, window_start, table_name, actor, application, origin, changes)
        SELECT $1, daybook.from_micros(x.ws), x.t, x.a, x.p, x.o, x.n
          FROM jsonb_to_recordset($2::jsonb) AS x(ws bigint, t text, a text, p text, o text, n bigint)
        ON CONFLICT (slot_name, window_start, table_name, actor, application, origin)
        DO UPDATE SET changes = w.changes + EXCLUDED.changes
        """

    static let foldAttribution = """
        WITH touched AS (
            SELECT DISTINCT daybook.from_micros(x.ws) AS window_start, x.t AS table_name
              FROM jsonb_to_recordset($2::jsonb) AS x(ws bigint, t text)
        ), crowded AS (
            SELECT a.window_start, a.table_name FROM daybook.actor_windows a JOIN touched USING (window_start, table_name)
             WHERE a.slot_name = $1 GROUP BY a.window_start, a.table_name HAVING count(*) > $3::int
        ), ranked AS (
            SELECT a.ctid AS id, row_number() OVER (
                       PARTITION BY a.window_start, a.table_name
                       ORDER BY a.changes DESC, a.actor, a.application, a.origin) AS rank
              FROM daybook.actor_windows a JOIN crowded USING (window_start, table_name)
             WHERE a.slot_name = $1 AND (a.actor, a.application, a.origin) <> ('', '', '')
        ), gone AS (
            DELETE FROM daybook.actor_windows a USING ranked r
             WHERE a.ctid = r.id AND r.rank >= $3::int
            RETURNING a.window_start, a.table_name, a.changes
        )
        INSERT INTO daybook.actor_windows AS w (slot_name, window_start, table_name, actor, application, origin, changes)
        SELECT $1, window_start, table_name, '', '', '', sum(changes) FROM gone GROUP BY window_start, table_name
        ON CONFLICT (slot_name, window_start, table_name, actor, application, origin)
        DO UPDATE SET changes = w.changes + EXCLUDED.changes
        """

    static let insertCaptureRules = """
        INSERT INTO daybook.capture
               (slot_name, table_name, level, columns, excluded_columns, hashed_columns, masked_columns, key_file,
                key_id, since_lsn)
        SELECT $1, x.t, x.l, x.c, x.e, coalesce(x.h, '{}'), coalesce(x.m, '{}'), x.kf, x.ki, x.s::pg_lsn
          FROM jsonb_to_recordset($2::jsonb)
               AS x(t text, l text, c text[], e text[], h text[], m text[], kf text, ki text, s text)
        ON CONFLICT (slot_name, table_name, since_lsn) DO NOTHING
        """

    /// A closing window's events of `values` tables, per key in commit order; with the first
    /// event of each key, whether the key was seen in an earlier window and its image then
    /// (the row before the day, from `key_images`) and the commit LSN it was stored at (which
    /// capture rule it was stored under). `$2` is the window start in microseconds: one
    /// partition, sorted once.
    static let declareValueEventsCursor = """
        DECLARE daybook_value_events NO SCROLL CURSOR FOR
        SELECT e.table_name, e.key, e.lsn::text, e.seq, e.op, e.new_row, e.old_row, e.unchanged,
               p.slot_name IS NOT NULL, p.image, p.lsn::text
          FROM (SELECT v.*, row_number() OVER (PARTITION BY v.table_name, v.key ORDER BY v.lsn, v.seq) AS n
                  FROM daybook.value_events v
                 WHERE v.slot_name = $1 AND v.window_start = daybook.from_micros($2::bigint)) e
          LEFT JOIN daybook.key_images p
                 ON e.n = 1 AND p.slot_name = $1 AND p.table_name = e.table_name AND p.key = e.key
         ORDER BY e.table_name, e.key, e.lsn, e.seq
        """

    /// Taken by a close and by `daybook forget` of the slot, so that one waits for the other.
    static let forgetLock = "SELECT pg_advisory_xact_lock(hashtextextended('daybook.forget:' || $1, 0))"

    /// One key's events with every value but its key replaced by '(forgotten)' (migration 019).
    static let forgetEvents = """
        UPDATE daybook.value_events
           SET new_row = daybook.forgotten_image(new_row, key), old_row = daybook.forgotten_image(old_row, key)
         WHERE slot_name = $1 AND table_name = $2 AND key = $3
        """

    /// The keys of a table whose latest image holds one of `$4` (the value, its hashes, its
    /// mask tags) in column `$3`: a read of the table's latest images (0.4 s for a million; an
    /// index of every image's values cost each close of a million keys 11 s more, for a
    /// request that comes rarely). Closed days are not searched: a key is found by what it
    /// holds now, or in a day still open (``keysHoldingValueInWindow``).
    static let keysHoldingValue = """
        SELECT i.key FROM daybook.key_images i
         WHERE i.slot_name = $1 AND i.table_name = $2 AND i.image::jsonb ->> $3 = ANY ($4::text[])
        """

    /// The same in the events of one window still open (`$5`, its start as text): one
    /// partition, pruned when the statement is planned with the value.
    static let keysHoldingValueInWindow = """
        SELECT DISTINCT e.key FROM daybook.value_events e
         WHERE e.window_start = $5::timestamptz AND e.slot_name = $1 AND e.table_name = $2
           AND (e.new_row::jsonb ->> $3 = ANY ($4::text[]) OR e.old_row::jsonb ->> $3 = ANY ($4::text[]))
        """

    static let openWindowStarts = """
        SELECT window_start::text FROM daybook.windows WHERE slot_name = $1 AND status <> 'closed'
        """

    /// One key's changed columns of closed days, their values replaced by '(forgotten)'.
    static let forgetChanges = """
        UPDATE daybook.key_values SET changed = daybook.forgotten_changes(changed)
         WHERE slot_name = $1 AND table_name = $2 AND key = $3::jsonb
        """

    /// Erasures whose stream-time minute has not passed yet: changes committed before them may
    /// still arrive (processed, not yet checkpointed), and are erased as they do.
    static let pendingErasures = """
        SELECT table_name, key, erased_at::text FROM daybook.erasures WHERE slot_name = $1 AND NOT settled
        """

    /// One pending erasure's key: its events committed up to a minute after it (clocks differ).
    static let erasePendingKey = """
        UPDATE daybook.value_events
           SET new_row = daybook.forgotten_image(new_row, key), old_row = daybook.forgotten_image(old_row, key)
         WHERE slot_name = $1 AND table_name = $2 AND key = $3 AND commit_time <= $4::timestamptz + interval '1 minute'
           AND (strpos(new_row, '"(forgotten)"') = 0 OR strpos(old_row, '"(forgotten)"') = 0)
        """

    static let settleErasures = """
        UPDATE daybook.erasures r SET settled = true
          FROM daybook.checkpoint c
         WHERE r.slot_name = $1 AND NOT r.settled AND c.slot_name = $1 AND c.stream_time > r.erased_at + interval '1 minute'
        """

    /// Whether a rule of the slot masks a column: only then does a close look for mask tags.
    static let slotMasks = """
        SELECT EXISTS (SELECT 1 FROM daybook.capture WHERE slot_name = $1 AND cardinality(masked_columns) > 0)
        """

    /// After a window's fold, before the key images move on: each event holding mask tags
    /// (``MaskedValue``) as it will be shown, tags replaced by the marker, `(masked, changed)`
    /// where the key's previous image (the event's old row under identity FULL, else the event
    /// before, or the key's image before the day) held another tag. Kept in a temporary table until ``showMaskedImages``.
    static let collectMaskedImages = """
        CREATE TEMPORARY TABLE daybook_masked ON COMMIT DROP AS
        SELECT v.table_name, v.key, v.lsn, v.seq,
               daybook.masked_image(v.new_row, coalesce(v.old_row, CASE WHEN v.n = 1 THEN p.image ELSE v.previous END)) AS new_row,
               daybook.masked_image(v.old_row, NULL) AS old_row
          FROM (SELECT e.table_name, e.key, e.lsn, e.seq, e.new_row, e.old_row,
                       lag(e.new_row) OVER w AS previous, row_number() OVER w AS n
                  FROM daybook.value_events e
                 WHERE e.slot_name = $1 AND e.window_start = daybook.from_micros($2::bigint)
                WINDOW w AS (PARTITION BY e.table_name, e.key ORDER BY e.lsn, e.seq)) v
          LEFT JOIN daybook.key_images p ON v.n = 1 AND p.slot_name = $1 AND p.table_name = v.table_name AND p.key = v.key
         WHERE strpos(v.new_row, chr(57344) || 'mask:') > 0 OR strpos(v.old_row, chr(57344) || 'mask:') > 0
        """

    /// After the key images kept their tags: the events and the keys' changed columns as shown,
    /// so that no tag stays in a closed day.
    static let showMaskedImages = """
        UPDATE daybook.value_events e SET new_row = m.new_row, old_row = m.old_row
          FROM daybook_masked m
         WHERE e.slot_name = $1 AND e.window_start = daybook.from_micros($2::bigint) AND e.table_name = m.table_name
           AND e.key = m.key AND e.lsn = m.lsn AND e.seq = m.seq
        """

    static let showMaskedChanges = """
        UPDATE daybook.key_values
           SET changed = regexp_replace(changed::text, '"' || chr(57344) || 'mask:([0-9a-f]{16}:)?[0-9a-f]{32}"', '"(masked)"', 'g')::jsonb
         WHERE slot_name = $1 AND window_start = daybook.from_micros($2::bigint)
           AND strpos(changed::text, chr(57344) || 'mask:') > 0
        """

    /// After a window's fold: each key's row after its last event of the window (filled where
    /// the fold could), where the key's first event of a later window starts from.
    static let rememberKeyImages = """
        INSERT INTO daybook.key_images AS k (slot_name, table_name, key, lsn, seq, image)
        SELECT DISTINCT ON (v.table_name, v.key) $1, v.table_name, v.key, v.lsn, v.seq, v.new_row
          FROM daybook.value_events v
         WHERE v.slot_name = $1 AND v.window_start = daybook.from_micros($2::bigint)
         ORDER BY v.table_name, v.key, v.lsn DESC, v.seq DESC
        ON CONFLICT (slot_name, table_name, key) DO UPDATE SET lsn = excluded.lsn, seq = excluded.seq, image = excluded.image
         WHERE (k.lsn, k.seq) < (excluded.lsn, excluded.seq)
        """

    static let insertKeyValues = """
        INSERT INTO daybook.key_values (slot_name, window_start, table_name, key, before_image, changed, events, truncated)
        SELECT $1, daybook.from_micros($2::bigint), x.t, x.k::jsonb, x.b, x.c, x.n, x.x
          FROM jsonb_to_recordset($3::jsonb) AS x(t text, k text, b text, c jsonb, n bigint, x bigint)
        """

    /// Stores events whose unknown (unchanged TOASTed) values the fold filled in.
    static let fillValueEvents = """
        UPDATE daybook.value_events e SET new_row = x.r::text, unchanged = x.u::text
          FROM jsonb_to_recordset($3::jsonb) AS x(t text, k text, l text, s integer, r jsonb, u jsonb)
         WHERE e.slot_name = $1 AND e.window_start = daybook.from_micros($2::bigint) AND e.table_name = x.t
           AND e.key = x.k AND e.lsn = x.l::pg_lsn AND e.seq = x.s
        """

    /// Drops a hot key's events past the limit: one range of (lsn, seq) per key.
    static let dropValueEvents = """
        DELETE FROM daybook.value_events e
         USING jsonb_to_recordset($3::jsonb) AS x(t text, k text, fl text, fs integer, tl text, ts integer)
         WHERE e.slot_name = $1 AND e.window_start = daybook.from_micros($2::bigint) AND e.table_name = x.t
           AND e.key = x.k AND (e.lsn, e.seq) >= (x.fl::pg_lsn, x.fs) AND (e.lsn, e.seq) <= (x.tl::pg_lsn, x.ts)
        """

    /// Merges a closing window's rows of keys flagged as possibly repeated into one row per key
    /// (operations in commit order, compact past 64 letters). `$2` is the window start in
    /// microseconds; the constant window start reads that window's partition only. The ops
    /// functions run only where needed: a SQL function call per row would cost more than the
    /// rest of the merge.
    static let mergeRepeatedKeys = """
        WITH flagged AS (
            SELECT DISTINCT table_name, key FROM daybook.key_changes
             WHERE slot_name = $1 AND window_start = daybook.from_micros($2::bigint) AND repeated
        ), moved AS (
            DELETE FROM daybook.key_changes c USING flagged f
             WHERE c.slot_name = $1 AND c.window_start = daybook.from_micros($2::bigint)
               AND c.table_name = f.table_name AND c.key = f.key
            RETURNING c.table_name, c.key, c.ops, c.first_change_at, c.last_change_at, c.lsn, c.part
        )
        INSERT INTO daybook.key_changes
               (slot_name, window_start, table_name, key, ops, first_change_at, last_change_at, lsn, part, repeated)
        SELECT $1, daybook.from_micros($2::bigint), a.table_name, a.key,
               CASE WHEN length(a.ops) <= 64 THEN a.ops ELSE daybook.compact_ops(a.ops) END,
               a.first_change_at, a.last_change_at, a.lsn, 0, false
          FROM (SELECT m.table_name, m.key,
                       string_agg(CASE WHEN m.ops ~ '^[IUD]*$' THEN m.ops ELSE daybook.expand_ops(m.ops) END, ''
                                  ORDER BY m.lsn, m.part) AS ops,
                       min(m.first_change_at) AS first_change_at, max(m.last_change_at) AS last_change_at,
                       max(m.lsn) AS lsn
                  FROM moved m
                 GROUP BY m.table_name, m.key) a
        """

    static let insertLate = """
        INSERT INTO daybook.late_changes
               (slot_name, window_start, window_end, table_name, key, op, commit_time, commit_lsn, xid)
        SELECT $1, daybook.from_micros(x.ws), daybook.from_micros(x.we), x.t, x.k, x.o, daybook.from_micros(x.ct),
               x.lsn::pg_lsn, x.x
          FROM jsonb_to_recordset($2::jsonb) AS x(ws bigint, we bigint, t text, k jsonb, o text, ct bigint, lsn text,
                                                  x bigint)
        """

    /// Freezes the distinct-key count of each table in a closing window, once its keys are
    /// merged (one row per key).
    static let countKeysOfClosing = """
        WITH counted AS MATERIALIZED (
            SELECT table_name, count(*) AS keys FROM daybook.key_changes
             WHERE slot_name = $1 AND window_start = daybook.from_micros($2::bigint)
             GROUP BY table_name
        )
        UPDATE daybook.table_windows t
           SET keys = coalesce((SELECT c.keys FROM counted c WHERE c.table_name = t.table_name), 0)
         WHERE t.slot_name = $1 AND t.window_start = daybook.from_micros($2::bigint)
        RETURNING t.keys
        """

    /// Marks windows the stream has closed: from this checkpoint on their changes are late.
    /// Their results become final in ``finishWindow``, in a transaction of its own.
    static let markClosing = """
        UPDATE daybook.windows w
           SET status = 'closing', closed_by = x.r, close_stream_time = daybook.from_micros(x.st), close_lsn = $3::pg_lsn
          FROM jsonb_to_recordset($2::jsonb) AS x(ws bigint, r text, st bigint)
         WHERE w.slot_name = $1 AND w.window_start = daybook.from_micros(x.ws) AND w.status = 'open'
        """

    /// The oldest window waiting to be finished, locked (another process finishing it is skipped).
    static let nextClosing = """
        SELECT daybook.to_micros(window_start), daybook.to_micros(window_end), closed_by
          FROM daybook.windows
         WHERE slot_name = $1 AND status = 'closing'
         ORDER BY window_start LIMIT 1
           FOR UPDATE SKIP LOCKED
        """

    /// Closes a window whose results are final and announces it; NOTIFY is delivered only if
    /// the transaction commits.
    static let finishWindow = """
        WITH closing AS (
            UPDATE daybook.windows w SET status = 'closed', closed_at = now()
             WHERE w.slot_name = $1 AND w.window_start = daybook.from_micros($2::bigint) AND w.status = 'closing'
         RETURNING w.slot_name, w.window_start, w.window_end, w.closed_by
        ), outbox AS (
            -- The day's deliveries, in the statement that closes it: it can never miss one.
            INSERT INTO daybook.deliveries (destination, slot_name, window_start)
            SELECT d.name, c.slot_name, c.window_start
              FROM closing c JOIN daybook.destinations d ON d.slot_name IS NULL OR d.slot_name = c.slot_name
            ON CONFLICT (destination, slot_name, window_start) DO NOTHING
        )
        SELECT pg_notify('daybook_window_closed', json_build_object(
                   'slot', c.slot_name, 'window_start', c.window_start, 'window_end', c.window_end,
                   'closed_by', c.closed_by,
                   'tables', (SELECT count(*) FROM daybook.table_windows t
                               WHERE t.slot_name = c.slot_name AND t.window_start = c.window_start))::text)
          FROM closing c
        """

    static let saveCheckpoint = """
        INSERT INTO daybook.checkpoint AS c
               (slot_name, lsn, stream_time, window_length, grace, time_zone, last_heartbeat_at, timeline, updated_at)
        VALUES ($1, $2::pg_lsn, daybook.from_micros($3::bigint), $4, $5::interval, $6, daybook.from_micros($7::bigint),
                $8::integer, now())
        ON CONFLICT (slot_name) DO UPDATE SET
               lsn = excluded.lsn, stream_time = excluded.stream_time, window_length = excluded.window_length,
               grace = excluded.grace, time_zone = excluded.time_zone, last_heartbeat_at = excluded.last_heartbeat_at,
               timeline = coalesce(excluded.timeline, c.timeline),
               pending_lsn = NULL, updated_at = now()
        """
}
