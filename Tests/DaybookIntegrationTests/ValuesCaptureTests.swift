import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// Tables captured at `values` on a real PostgreSQL: every event of every key equals, in
/// order, an independent record of each row image taken by the database itself (audit
/// triggers storing `hstore(NEW)` / `hstore(OLD)`: each column in PostgreSQL's own text
/// form), never by Daybook's code.
@Suite(.serialized)
struct ValuesCaptureTests {
    @Test func everyEventOfEveryKeyMatchesTheDatabasesOwnRecord() throws {
        let database = try TestDatabase("values")
        let sql = database.connection
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        try sql.simpleQuery(ValueAudit.installSQL)
        try sql.simpleQuery(
            """
            CREATE SCHEMA app;
            CREATE TABLE app.orders (id integer PRIMARY KEY, status text, total numeric, tags text[], meta jsonb,
                                     paid_at timestamptz, blob bytea, note text, password_hash text);
            ALTER TABLE app.orders ALTER COLUMN note SET STORAGE EXTERNAL;
            CREATE TABLE app.pairs (a integer, b text, v integer, PRIMARY KEY (a, b));
            CREATE TABLE app.things (id uuid PRIMARY KEY, title text);
            CREATE TABLE app.full_pk (id integer PRIMARY KEY, v text);
            ALTER TABLE app.full_pk REPLICA IDENTITY FULL;
            CREATE TABLE app.full_nopk (a integer, b text);
            ALTER TABLE app.full_nopk REPLICA IDENTITY FULL;
            CREATE TABLE app.counter (id integer PRIMARY KEY, n integer);
            CREATE TABLE app.scratch (id integer PRIMARY KEY);
            """
        )
        try sql.simpleQuery(ValueAudit.triggerSQL(table: "app.orders", keyColumns: ["id"], excluded: ["password_hash"]))
        for (table, key) in [
            ("app.pairs", ["a", "b"]), ("app.things", ["id"]), ("app.full_pk", ["id"]), ("app.full_nopk", ["a", "b"]),
            ("app.counter", ["id"]), ("app.scratch", ["id"]),
        ] {
            try sql.simpleQuery(ValueAudit.triggerSQL(table: table, keyColumns: key))
        }
        // A row with a TOASTed note written before its table was captured at values: Daybook
        // never sees its image, so a later update leaving the note unchanged cannot know it.
        try sql.simpleQuery(
            "INSERT INTO app.orders (id, status, note) VALUES (500, 'old', repeat('early note ', 2000))"
        )

        #expect(try DaybookProcess.run(["migrate"], environment: environment).status == 0)
        let setup = try DaybookProcess.run(
            [
                "setup", "--slot", database.name, "--tables", "app.orders", "app.pairs", "app.things", "app.full_pk",
                "app.full_nopk", "app.counter", "app.scratch", "--capture", "values", "--columns", "id",
            ],
            environment: environment
        )
        // --columns id is not a column of every table: refused, and nothing was created.
        #expect(setup.status == 64, "\(setup.stderr)")
        #expect(setup.stderr.contains("has no column id"), "\(setup.stderr)")
        #expect(
            try database.scalar("SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", [database.name])
                == "0"
        )

        let setupValues = try DaybookProcess.run(
            [
                "setup", "--slot", database.name, "--tables", "app.orders", "app.pairs", "app.things", "app.full_pk",
                "app.full_nopk", "app.counter", "app.scratch", "--capture", "values",
            ],
            environment: environment
        )
        #expect(setupValues.status == 0, "\(setupValues.stderr)")
        let excluded = try DaybookProcess.run(
            ["capture", "--slot", database.name, "app.orders", "values", "--exclude-columns", "password_hash"],
            environment: environment
        )
        #expect(excluded.status == 0, "\(excluded.stderr)")
        // The counter starts at keys and switches to values mid-stream.
        let counterKeys = try DaybookProcess.run(
            ["capture", "--slot", database.name, "app.counter", "keys"],
            environment: environment
        )
        #expect(counterKeys.status == 0, "\(counterKeys.stderr)")
        // The publication sends only what the levels keep: never the password hash, the key
        // alone for a keys table; identity FULL tables whole (PostgreSQL's rule), said by setup.
        func published(_ table: String) throws -> String? {
            try database.scalar(
                "SELECT array_to_string(attnames, ',') FROM pg_publication_tables WHERE pubname = 'daybook' AND tablename = $1",
                [table]
            )
        }
        #expect(try published("orders") == "id,status,total,tags,meta,paid_at,blob,note")
        #expect(try published("counter") == "id")
        #expect(try published("full_pk") == "id,v")
        #expect(
            setupValues.stdout.contains("app.full_pk: published whole, since app.full_pk has REPLICA IDENTITY FULL"),
            "\(setupValues.stdout)"
        )
        #expect(
            excluded.stdout.contains("sends only id, status, total, tags, meta, paid_at, blob, note"),
            "\(excluded.stdout)"
        )
        let status = try DaybookProcess.run(["status", "--slot", database.name], environment: environment)
        #expect(status.stdout.contains("app.orders: values"), "\(status.stdout)")
        #expect(status.stdout.contains("never: password_hash"), "\(status.stdout)")
        #expect(status.stdout.contains("app.counter: keys"), "\(status.stdout)")

        let service = try DaybookProcess(
            Workload.runArguments(database, extra: ["--max-events-per-key", "4"]),
            environment: environment
        )
        defer { _ = service.stop() }

        try sql.simpleQuery(
            """
            INSERT INTO app.orders VALUES
                (1, 'new', 10.50, '{a,"b c"}', '{"x": [1, 2]}', '2026-01-02 03:04:05.678+00', '\\x00ff', NULL, 'hash-1'),
                (2, 'ünïcødé ✓', -0.001, '{}', 'null', NULL, '\\x', repeat('long note ', 3000), 'hash-2');
            INSERT INTO app.pairs VALUES (1, 'x', 1), (1, 'y', NULL);
            INSERT INTO app.things VALUES ('6f1c1f9e-8b0a-4c55-9d2a-0a4f7f0e2b11', 'first');
            INSERT INTO app.full_pk VALUES (1, 'one');
            INSERT INTO app.full_nopk VALUES (1, 'x'), (2, NULL);
            INSERT INTO app.counter VALUES (1, 0);
            INSERT INTO app.scratch SELECT generate_series(1, 3);
            """
        )
        // About 2 MB of events in one transaction: one checkpoint's COPY goes out in blocks.
        try sql.simpleQuery(
            "INSERT INTO app.things SELECT md5(g::text)::uuid, repeat('t', 600) || g FROM generate_series(1, 3000) g"
        )
        try sql.simpleQuery("UPDATE app.orders SET status = 'paid', paid_at = now() WHERE id = 1")
        // The TOASTed note is unchanged: pgoutput sends no value; Daybook saw the earlier image.
        try sql.simpleQuery("UPDATE app.orders SET status = 'shipped' WHERE id = 2")
        try sql.simpleQuery("UPDATE app.orders SET status = 'touched' WHERE id = 500")
        try sql.simpleQuery("UPDATE app.counter SET n = n + 1 WHERE id = 1")
        try sql.simpleQuery(
            "BEGIN; INSERT INTO app.things VALUES ('00000000-0000-0000-0000-000000000001', 'gone'); ROLLBACK"
        )
        try sql.simpleQuery(
            """
            BEGIN;
            UPDATE app.pairs SET v = 2 WHERE a = 1 AND b = 'x';
            SAVEPOINT s;
            UPDATE app.pairs SET v = 99 WHERE a = 1 AND b = 'y';
            ROLLBACK TO SAVEPOINT s;
            UPDATE app.pairs SET b = 'z' WHERE a = 1 AND b = 'y';
            COMMIT;
            """
        )
        let switchAudit = try #require(try database.scalar("SELECT max(id) FROM audit_v.log"))
        let counterValues = try DaybookProcess.run(
            ["capture", "--slot", database.name, "app.counter", "values"],
            environment: environment
        )
        #expect(counterValues.status == 0, "\(counterValues.stderr)")
        try sql.simpleQuery("UPDATE app.counter SET n = n + 1 WHERE id = 1")
        #expect(try published("counter") == "id,n", "widened for values")
        Thread.sleep(forTimeInterval: 2.2)  // the next changes fall into a later window
        try sql.simpleQuery("UPDATE app.orders SET total = total * 2 WHERE id IN (1, 2)")  // note still unchanged
        try sql.simpleQuery("UPDATE app.orders SET id = 3 WHERE id = 1")
        try sql.simpleQuery("UPDATE app.full_pk SET v = 'two' WHERE id = 1")
        try sql.simpleQuery("UPDATE app.full_nopk SET b = 'y' WHERE a = 1")
        try sql.simpleQuery("DELETE FROM app.full_nopk WHERE a = 2")
        try sql.simpleQuery("DELETE FROM app.full_pk WHERE id = 1")
        try sql.simpleQuery("UPDATE app.things SET title = NULL")
        try sql.simpleQuery("TRUNCATE app.scratch")
        // 70 updates of one key in one transaction (one commit time, so one window).
        try sql.simpleQuery((1...70).map { "UPDATE app.counter SET n = \($0 * 10) WHERE id = 1;" }.joined())
        try sql.simpleQuery("DELETE FROM app.orders WHERE id = 2")

        // Heartbeats until the window of the last audited change is closed.
        try waitUntil("heartbeats close every window", log: service) {
            _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment)
            return try database.scalar(
                """
                SELECT count(*) FROM daybook.windows
                 WHERE status = 'closed' AND window_end > (SELECT max(pg_xact_commit_timestamp(xmin)) FROM audit_v.log)
                """
            ) != "0"
        }

        // The hot counter key (70 events in the second window, limit 4) and row 500 (its note
        // unknown) are checked on their own.
        let hot: Set<String> = [#"app.counter {"id": "1"}"#, #"app.orders {"id": "500"}"#]
        #expect(try ValueAudit.mismatches(source: sql, sink: sql, except: hot) == [])
        #expect(try ValueAudit.keyCount(sql) >= 3012)

        // Before values were captured for row 500, its note is unknown: named, never invented.
        let unknown = try sql.query(
            "SELECT new_row::text, unchanged::text FROM daybook.key_events WHERE table_name = 'app.orders' AND key = '{\"id\": \"500\"}'"
        )
        #expect(unknown.rows.count == 1)
        #expect(unknown.rows.first?[1] == #"["note"]"#)
        #expect(unknown.rows.first?[0]?.contains("note") == false)
        #expect(unknown.rows.first?[0]?.contains("touched") == true)

        // The password hash is never anywhere in the sink.
        let leaks = try database.scalar(
            "SELECT count(*) FROM daybook.value_events v WHERE v::text LIKE '%hash-%' OR v::text LIKE '%password_hash%'"
        )
        #expect(leaks == "0")

        // The counter: keys until the switch, values after; the hot window keeps 3 + the last.
        let counterEvents = try sql.query(
            """
            SELECT daybook.to_micros(window_start), count(*), string_agg(new_row::json ->> 'n', ',' ORDER BY lsn, seq)
              FROM daybook.value_events WHERE table_name = 'app.counter' GROUP BY 1 ORDER BY 1
            """
        ).rows
        #expect(counterEvents.count == 2, "\(counterEvents)")
        #expect(counterEvents.first?[2] == "2", "only the change after the switch: \(counterEvents)")
        #expect(counterEvents.last?[2] == "10,20,30,700", "\(counterEvents)")
        let hotKey = try sql.query(
            """
            SELECT v.events, v.truncated, v.changed::text, v.before_image FROM daybook.key_values v
             WHERE v.table_name = 'app.counter' ORDER BY v.window_start DESC LIMIT 1
            """
        ).rows.first
        #expect(hotKey?[0] == "70" && hotKey?[1] == "66", "\(String(describing: hotKey))")
        #expect(hotKey?[2] == #"{"n": {"after": "700", "before": "2"}}"#, "\(String(describing: hotKey))")
        // Its 70 operations are stored compactly, and the functions read them back.
        let hotOps = try sql.query(
            """
            SELECT ops, daybook.op_count(ops), length(daybook.expand_ops(ops)), daybook.net_effect(ops)
              FROM daybook.key_windows WHERE table_name = 'app.counter' ORDER BY window_start DESC LIMIT 1
            """
        ).rows.first
        #expect(hotOps == ["U×70", "70", "70", "updated"], "\(String(describing: hotOps))")
        let compact = try sql.query(
            """
            SELECT daybook.compact_ops(o), daybook.op_count(daybook.compact_ops(o)),
                   daybook.expand_ops(daybook.compact_ops(o)) = o, daybook.net_effect(daybook.compact_ops(o))
              FROM (VALUES ('I' || repeat('U', 100) || 'D'), (repeat('IUD', 30)), ('IUUD')) AS v(o)
            """
        ).rows
        #expect(
            compact == [
                ["I U×100 D", "102", "t", "created then deleted"],
                [String(repeating: "IUD", count: 30), "90", "t", "created then deleted"],
                ["IUUD", "4", "t", "created then deleted"],
            ],
            "\(compact)"
        )
        #expect(hotKey?[3] == "known")
        // A window with changes at both levels says so; which window the switch falls in
        // depends on the clock, so the expectation comes from the audit's commit times.
        let levels = try sql.query(
            """
            SELECT daybook.level_names(t.levels),
                   (SELECT count(*) FROM audit_v.log l
                     WHERE l.tbl = 'app.counter' AND l.id <= $1::bigint
                       AND pg_xact_commit_timestamp(l.xmin) >= t.window_start
                       AND pg_xact_commit_timestamp(l.xmin) < t.window_end)
              FROM daybook.table_windows t
             WHERE t.table_name = 'app.counter' AND t.window_start = (
                   SELECT min(window_start) FROM daybook.value_events WHERE table_name = 'app.counter')
            """,
            [switchAudit]
        ).rows.first
        #expect(levels?[0] == (levels?[1] == "0" ? "values" : "keys+values"), "\(String(describing: levels))")
        let afterSwitch = try database.scalar(
            "SELECT count(*) FROM audit_v.log WHERE tbl = 'app.counter' AND id > $1::bigint",
            [switchAudit]
        )
        #expect(afterSwitch == "71")

        // The report: one JSON object per key, the changed columns, and every format.
        let report = try DaybookProcess.run(
            ["report", "--slot", database.name, "--events", "--format", "json", "--from", "2000-01-01"],
            environment: environment
        )
        #expect(report.status == 0, "\(report.stderr)")
        let objects = report.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(String(objects.count) == (try database.scalar("SELECT count(*) FROM daybook.key_values")))
        let order1 = try #require(
            objects.first {
                ($0["table"] as? String) == "app.orders" && ($0["key"] as? [String: String]) == ["id": "1"]
            }
        )
        #expect(order1["ops"] as? String == "IU")
        #expect(order1["before"] as? String == "none")
        let changed = try #require(order1["changed"] as? [String: [String: Any]])
        #expect(changed["status"]?["after"] as? String == "paid")
        #expect(changed["status"]?["before"] == nil)
        #expect((order1["events"] as? [[String: Any]])?.count == 2)
        let text = try DaybookProcess.run(
            ["report", "--slot", database.name, "--events", "--from", "2000-01-01", "--table", "app.orders"],
            environment: environment
        )
        #expect(text.stdout.contains("status: (none) → paid"), "\(text.stdout)")
        #expect(text.stdout.contains("total=21.00"), "\(text.stdout)")
        #expect(!text.stdout.contains("app.pairs"))
        let csv = try DaybookProcess.run(
            ["report", "--slot", database.name, "--events", "--format", "csv", "--from", "2000-01-01"],
            environment: environment
        )
        let storedEvents = try #require(try database.scalar("SELECT count(*) FROM daybook.key_events"))
        #expect(csv.stdout.split(separator: "\n").count == Int(storedEvents)! + 1)
        let markdown = try DaybookProcess.run(
            ["report", "--slot", database.name, "--events", "--format", "markdown", "--from", "2000-01-01"],
            environment: environment
        )
        #expect(markdown.stdout.contains("| time | op | change |"))
        #expect(service.process.isRunning, "daybook run stopped early: \(service.stderr)")
    }

    @Test func badCaptureRequestsSayWhatToDoAndChangeNothing() throws {
        let database = try TestDatabase("capturebad")
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        try database.execute("CREATE TABLE public.users (id integer PRIMARY KEY, password_hash text)")
        #expect(try DaybookProcess.run(["migrate"], environment: environment).status == 0)
        #expect(try DaybookProcess.run(["setup", "--slot", database.name], environment: environment).status == 0)
        let cases: [([String], String)] = [
            (["public.nope", "values"], "no table public.nope"),
            (["public.users", "values", "--exclude-columns", "nope"], "has no column nope"),
            (["public.users", "values", "--exclude-columns", "id"], "part of public.users's key"),
            (["public.users", "keys", "--columns", "id"], "use them with the values level"),
            (["public.users", "everything"], "'everything' is invalid"),
        ]
        for (arguments, message) in cases {
            let result = try DaybookProcess.run(
                ["capture", "--slot", database.name] + arguments,
                environment: environment
            )
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            if !message.contains("invalid") {
                #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
            }
        }
        #expect(try database.scalar("SELECT count(*) FROM daybook.capture") == "0")
        // A table outside the publication is captured, with a warning that nothing of it arrives.
        try database.execute("CREATE SCHEMA other; CREATE TABLE other.unpublished (id integer PRIMARY KEY)")
        let unpublished = try DaybookProcess.run(
            ["capture", "--slot", database.name, "other.unpublished", "values"],
            environment: environment
        )
        #expect(unpublished.status == 0, "\(unpublished.stderr)")
        #expect(
            unpublished.stdout.contains("warning: other.unpublished is not in publication daybook"),
            "\(unpublished.stdout)"
        )
        let schemaWide = try DaybookProcess.run(
            ["capture", "--slot", database.name, "public.users", "keys"],
            environment: environment
        )
        #expect(
            schemaWide.stdout.contains("published whole, since publication daybook publishes whole schemas"),
            "\(schemaWide.stdout)"
        )
        let other = try DaybookProcess.run(
            ["capture", "--slot", "missing_slot", "public.users", "values"],
            environment: environment
        )
        #expect(other.status == 4 && other.stderr.contains("daybook setup --slot missing_slot"), "\(other.stderr)")
    }
}

/// Retention: `run --prune-keep` and `daybook prune` remove old windows' per-key results
/// (and with --all the summaries), and a report for a pruned day says so.
@Suite(.serialized)
struct RetentionTests {
    @Test func prunedDaysSaySoAndOpenWindowsAreNeverTouched() throws {
        let database = try TestDatabase("prune")
        let sql = database.connection
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        try sql.simpleQuery("CREATE SCHEMA app; CREATE TABLE app.t (id integer PRIMARY KEY, v text)")
        #expect(try DaybookProcess.run(["migrate"], environment: environment).status == 0)
        let setup = try DaybookProcess.run(
            ["setup", "--slot", database.name, "--schemas", "app"],
            environment: environment
        )
        #expect(setup.status == 0, "\(setup.stderr)")
        #expect(
            try DaybookProcess.run(["capture", "--slot", database.name, "app.t", "values"], environment: environment)
                .status == 0
        )
        // Every window is pruned of its per-key results as soon as it closes.
        let service = try DaybookProcess(
            Workload.runArguments(database, extra: ["--prune-keep", "0s"]),
            environment: environment
        )
        defer { _ = service.stop() }
        try sql.simpleQuery("INSERT INTO app.t VALUES (1, 'a'), (2, 'b'); UPDATE app.t SET v = 'c' WHERE id = 1")
        let firstWindow = try #require(
            try database.scalar("SELECT max(pg_xact_commit_timestamp(xmin))::date::text FROM app.t")
        )
        try waitUntil("the window closes", log: service) {
            _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment)
            return try database.scalar("SELECT count(*) FROM daybook.windows WHERE status = 'closed'") != "0"
        }
        #expect(try database.scalar("SELECT count(*) FROM daybook.key_windows") == "0")
        #expect(try database.scalar("SELECT count(*) FROM daybook.value_events") == "0")
        #expect(try database.scalar("SELECT count(*) FROM daybook.key_values") == "0")
        #expect(try database.scalar("SELECT sum(inserts) FROM daybook.table_windows") == "2")
        #expect(try database.scalar("SELECT pruned FROM daybook.windows WHERE status = 'closed'") == "keys")

        // An open window keeps everything, whatever --keep says.
        try sql.simpleQuery("INSERT INTO app.t VALUES (3, 'd')")
        try waitUntil("the change is checkpointed", log: service) {
            try database.scalar("SELECT count(*) FROM daybook.value_events") == "1"
        }
        let keys = try DaybookProcess.run(
            ["report", "--slot", database.name, "--keys", "--date", firstWindow, "--time-zone", "UTC"],
            environment: environment
        )
        // Notes are wrapped at 100 columns, their lines indented under the first.
        let keysNote = keys.stdout.replacingOccurrences(of: "\n      ", with: " ")
        #expect(
            keysNote.contains("pruned on") && keysNote.contains("the per-table summaries remain"),
            "\(keys.stdout)"
        )
        let all = try DaybookProcess.run(
            ["prune", "--slot", database.name, "--keep", "0s", "--all"],
            environment: environment
        )
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdout.contains("table rows"), "\(all.stdout)")
        #expect(
            try database.scalar(
                "SELECT count(*) FROM daybook.table_windows WHERE window_start < (SELECT min(window_start) FROM daybook.windows WHERE status = 'open')"
            ) == "0"
        )
        #expect(
            try database.scalar("SELECT count(*) FROM daybook.value_events") == "1",
            "the open window's event stays"
        )
        let tables = try DaybookProcess.run(
            ["report", "--slot", database.name, "--date", firstWindow, "--time-zone", "UTC"],
            environment: environment
        )
        #expect(
            tables.stdout.replacingOccurrences(of: "\n      ", with: " ").contains("all results"),
            "\(tables.stdout)"
        )
        let bad = try DaybookProcess.run(
            ["prune", "--slot", database.name, "--keep", "soon"],
            environment: environment
        )
        #expect(bad.status == 64 && bad.stderr.contains("--keep"), "\(bad.stderr)")
    }
}
