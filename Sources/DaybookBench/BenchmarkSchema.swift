import PostgresReplication

/// The benchmark's tables and the server-side generator of its backlogs.
///
/// Four tables with four key shapes (bigint, composite, text, uuid). The generator runs
/// inside PostgreSQL (a procedure that commits every `per_tx` changes), so a backlog of a
/// million changes takes seconds to write and nothing but the server's own speed limits it.
enum BenchmarkSchema {
    static let tables = ["bench.orders", "bench.lines", "bench.users", "bench.events"]

    static let create = """
        CREATE SCHEMA bench;
        CREATE TABLE bench.orders (id bigint PRIMARY KEY, status text NOT NULL, amount numeric NOT NULL, note text);
        CREATE TABLE bench.lines (order_id bigint, line integer, sku text NOT NULL, qty integer NOT NULL,
                                  PRIMARY KEY (order_id, line));
        CREATE TABLE bench.users (email text PRIMARY KEY, name text NOT NULL, visits integer NOT NULL);
        CREATE TABLE bench.events (id uuid PRIMARY KEY, kind text NOT NULL, payload text);

        -- Keys 1..n in every table, before any slot exists: the rows the workloads update and delete.
        CREATE PROCEDURE bench.prefill(per_table bigint) LANGUAGE sql AS $$
            INSERT INTO bench.orders SELECT g, 'new', g, 'prefilled' FROM generate_series(1, per_table) g;
            INSERT INTO bench.lines SELECT g, 1, 'sku-' || g, 1 FROM generate_series(1, per_table) g;
            INSERT INTO bench.users SELECT 'user' || g || '@example.com', 'user ' || g, 0 FROM generate_series(1, per_table) g;
            INSERT INTO bench.events SELECT md5(g::text)::uuid, 'prefilled', 'x' FROM generate_series(1, per_table) g;
        $$;

        CREATE FUNCTION bench.put(t integer, k bigint) RETURNS void LANGUAGE plpgsql AS $$ BEGIN
            IF t = 1 THEN INSERT INTO bench.orders VALUES (k, 'new', k, 'new');
            ELSIF t = 2 THEN INSERT INTO bench.lines VALUES (k, 1, 'sku-' || k, 1);
            ELSIF t = 3 THEN INSERT INTO bench.users VALUES ('user' || k || '@example.com', 'user ' || k, 0);
            ELSE INSERT INTO bench.events VALUES (md5(k::text)::uuid, 'new', 'y'); END IF;
        END $$;
        CREATE FUNCTION bench.touch(t integer, k bigint) RETURNS void LANGUAGE plpgsql AS $$ BEGIN
            IF t = 1 THEN UPDATE bench.orders SET amount = amount + 1 WHERE id = k;
            ELSIF t = 2 THEN UPDATE bench.lines SET qty = qty + 1 WHERE order_id = k AND line = 1;
            ELSIF t = 3 THEN UPDATE bench.users SET visits = visits + 1 WHERE email = 'user' || k || '@example.com';
            ELSE UPDATE bench.events SET kind = 'seen' WHERE id = md5(k::text)::uuid; END IF;
        END $$;
        CREATE FUNCTION bench.drop(t integer, k bigint) RETURNS void LANGUAGE plpgsql AS $$ BEGIN
            IF t = 1 THEN DELETE FROM bench.orders WHERE id = k;
            ELSIF t = 2 THEN DELETE FROM bench.lines WHERE order_id = k AND line = 1;
            ELSIF t = 3 THEN DELETE FROM bench.users WHERE email = 'user' || k || '@example.com';
            ELSE DELETE FROM bench.events WHERE id = md5(k::text)::uuid; END IF;
        END $$;

        -- With `attribute`, every transaction starts as an application's would after
        -- daybook.act_as: a transactional daybook.actor message naming one of 50 actors.
        CREATE FUNCTION bench.act(tx bigint) RETURNS void LANGUAGE sql AS $$
            SELECT pg_logical_emit_message(true, 'daybook.actor',
                '{"via":"act_as","user":"user' || (tx % 50) || '@example.com","app":"bench","request":"r-' || tx || '"}')
        $$;

        -- `total` changes, round-robin over the four tables, committed every `per_tx`:
        --   hot:      of every 10 changes to a table, 2 insert new keys, 7 update one of `hot`
        --             prefilled keys (pseudo-random), 1 deletes an earlier new key;
        --   distinct: 5 insert new keys, 3 update and 2 delete prefilled keys, each key once;
        --   inserts:  new keys only, inserted set-wise (for very large backlogs).
        CREATE PROCEDURE bench.generate(workload text, total bigint, per_tx integer, prefilled bigint, hot bigint,
                                        attribute boolean DEFAULT false)
        LANGUAGE plpgsql AS $$
        DECLARE
            i bigint := 0; t integer; phase integer; n bigint;
            inserted bigint[] := ARRAY[0, 0, 0, 0]; updated bigint[] := ARRAY[0, 0, 0, 0];
            deleted bigint[] := ARRAY[0, 0, 0, 0];
        BEGIN
            IF workload = 'inserts' THEN
                WHILE i < total LOOP
                    IF attribute THEN PERFORM bench.act(i / per_tx); END IF;
                    n := least(per_tx, total - i) / 4;
                    INSERT INTO bench.orders SELECT g, 'new', g, 'new' FROM generate_series(prefilled + i / 4 + 1, prefilled + i / 4 + n) g;
                    INSERT INTO bench.lines SELECT g, 1, 'sku-' || g, 1 FROM generate_series(prefilled + i / 4 + 1, prefilled + i / 4 + n) g;
                    INSERT INTO bench.users SELECT 'user' || g || '@example.com', 'u', 0 FROM generate_series(prefilled + i / 4 + 1, prefilled + i / 4 + n) g;
                    INSERT INTO bench.events SELECT md5(g::text)::uuid, 'new', 'y' FROM generate_series(prefilled + i / 4 + 1, prefilled + i / 4 + n) g;
                    i := i + 4 * n;
                    COMMIT;
                END LOOP;
                RETURN;
            END IF;
            WHILE i < total LOOP
                IF attribute AND i % per_tx = 0 THEN PERFORM bench.act(i / per_tx); END IF;
                t := (i % 4)::integer + 1;
                phase := ((i / 4) % 10)::integer;
                IF workload = 'hot' THEN
                    IF phase < 2 THEN
                        PERFORM bench.put(t, prefilled + 1 + inserted[t]); inserted[t] := inserted[t] + 1;
                    ELSIF phase = 9 THEN
                        PERFORM bench.drop(t, prefilled + 1 + deleted[t]); deleted[t] := deleted[t] + 1;
                    ELSE
                        PERFORM bench.touch(t, 1 + (hashint8(i) & 2147483647) % hot);
                    END IF;
                ELSE
                    IF phase < 5 THEN
                        PERFORM bench.put(t, prefilled + 1 + inserted[t]); inserted[t] := inserted[t] + 1;
                    ELSIF phase < 8 THEN
                        PERFORM bench.touch(t, 1 + updated[t]); updated[t] := updated[t] + 1;
                    ELSE
                        PERFORM bench.drop(t, prefilled - deleted[t]); deleted[t] := deleted[t] + 1;
                    END IF;
                END IF;
                i := i + 1;
                IF i % per_tx = 0 THEN COMMIT; END IF;
            END LOOP;
            COMMIT;
        END $$;
        """

    /// Records the rule `daybook capture` would for every table at `level`, from the start of
    /// `slot` (nothing at `keys`, the default): at `values`, with `hashed` columns per table kept
    /// as keyed hashes under `keyFile`.
    static func recordCapture(
        level: String,
        slot: String,
        sink: String,
        hashed: [String: [String]] = [:],
        keyFile: (path: String, id: String)? = nil
    ) throws {
        guard level != "keys" else { return }
        let connection = try PostgresConnection(ConnectionString(sink))
        for table in tables {
            let columns = hashed[table] ?? []
            try connection.query(
                """
                INSERT INTO daybook.capture (slot_name, table_name, level, since_lsn, hashed_columns, key_file, key_id)
                VALUES ($1, $2, $3, '0/0', $4::text[], $5, $6)
                """,
                [
                    slot, table, level, "{\(columns.joined(separator: ","))}",
                    columns.isEmpty ? nil : keyFile?.path, columns.isEmpty ? nil : keyFile?.id,
                ]
            )
        }
    }
}
