import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// Who changed it, through the whole path: two roles and two application names write, partly
/// through `daybook.act_as`, partly under the statement trigger, while Daybook is SIGKILLed
/// and restarted. Per table, window and actor, Daybook's counts equal an independent count:
/// row triggers that record, with each change, who the test says acts (the actor it passed
/// to `act_as`, else the role and application the trigger sees) and its commit time.
@Suite(.serialized)
struct AttributionIntegrationTests {
    /// The expected attribution of each change, recorded beside it. `test.actor` is set with
    /// each `act_as` call; app.notes has no statement trigger, so without `act_as` its changes
    /// are unattributed ('').
    static let auditSQL = """
        CREATE SCHEMA audit;
        CREATE TABLE audit.who (
            id bigserial PRIMARY KEY, tbl text NOT NULL, actor text NOT NULL, app text NOT NULL
        );
        CREATE FUNCTION audit.record_who() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            declared text := nullif(current_setting('test.actor', true), '');
            tbl text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
        BEGIN
            IF declared IS NOT NULL THEN
                INSERT INTO audit.who (tbl, actor, app) VALUES (tbl, declared, current_setting('test.app', true));
            ELSIF TG_ARGV[0] = 'trigger' THEN
                INSERT INTO audit.who (tbl, actor, app) VALUES (tbl, current_user, current_setting('application_name'));
            ELSE
                INSERT INTO audit.who (tbl, actor, app) VALUES (tbl, '', '');
            END IF;
            RETURN NULL;
        END $$;
        GRANT USAGE ON SCHEMA audit TO PUBLIC;
        GRANT INSERT ON audit.who TO PUBLIC;
        GRANT USAGE ON SEQUENCE audit.who_id_seq TO PUBLIC;
        CREATE TRIGGER who_orders AFTER INSERT OR UPDATE OR DELETE ON app.orders
            FOR EACH ROW EXECUTE FUNCTION audit.record_who('trigger');
        CREATE TRIGGER who_notes AFTER INSERT OR UPDATE OR DELETE ON app.notes
            FOR EACH ROW EXECUTE FUNCTION audit.record_who('none');
        """

    /// Per (window of 2 s, table, actor, application): the independent count, as text rows.
    static let expectedSQL = """
        SELECT to_char(('epoch'::timestamptz + floor(extract(epoch FROM pg_xact_commit_timestamp(xmin)) / 2) * 2
                         * interval '1 second') AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
               tbl, actor, app, count(*)::text
          FROM audit.who GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        """

    /// Daybook's: attributed rows, and each table's unattributed rest as actor ''.
    static let actualSQL = """
        WITH attributed AS (
            SELECT window_start, table_name, actor, application, changes FROM daybook.actor_windows WHERE slot_name = $1
        ), rest AS (
            SELECT t.window_start, t.table_name, '' AS actor, '' AS application,
                   t.inserts + t.updates + t.deletes + t.truncates
                     - coalesce((SELECT sum(a.changes) FROM attributed a
                                  WHERE a.window_start = t.window_start AND a.table_name = t.table_name), 0) AS changes
              FROM daybook.table_windows t WHERE t.slot_name = $1
        )
        SELECT to_char(window_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), table_name, actor, application,
               changes::text
          FROM (SELECT * FROM attributed UNION ALL SELECT * FROM rest WHERE changes > 0) x
         ORDER BY 1, 2, 3, 4
        """

    @Test func countsPerActorEqualTheIndependentCountThroughSIGKILLs() throws {
        let database = try TestDatabase("attribution")
        let clerk = "\(database.name)_clerk"
        let auditor = "\(database.name)_auditor"
        try database.admin.simpleQuery(
            "CREATE ROLE \(clerk) LOGIN PASSWORD 'clerk-secret'; CREATE ROLE \(auditor) LOGIN PASSWORD 'auditor-secret'"
        )
        database.onDrop { admin in try admin.simpleQuery("DROP ROLE IF EXISTS \(clerk); DROP ROLE IF EXISTS \(auditor)")
        }
        try database.execute(
            """
            CREATE SCHEMA app;
            CREATE TABLE app.orders (id bigint PRIMARY KEY, amount integer);
            CREATE TABLE app.notes (id bigint PRIMARY KEY, body text);
            GRANT USAGE ON SCHEMA app TO PUBLIC;
            GRANT SELECT, INSERT, UPDATE, DELETE ON app.orders, app.notes TO PUBLIC;
            """
        )
        try database.execute(Self.auditSQL)
        // The walsender streams transactions over 64 kB before their commit (the large one below).
        try database.admin.simpleQuery("ALTER DATABASE \(database.name) SET logical_decoding_work_mem = '64kB'")
        let daybook = ["DAYBOOK_DATABASE": database.connectionString]
        #expect(try DaybookProcess.run(["migrate"], environment: daybook).status == 0)
        let setup = try DaybookProcess.run(
            ["setup", "--slot", database.name, "--tables", "app.orders", "app.notes"],
            environment: daybook
        )
        #expect(setup.status == 0, "\(setup.stderr)")
        let attach = try DaybookProcess.run(
            ["capture", "--slot", database.name, "app.orders", "--attribute"],
            environment: daybook
        )
        #expect(attach.status == 0, "\(attach.stderr)")
        #expect(attach.stdout.contains("app.orders: each statement's role and application are attributed"))
        // app.notes keeps its values: each event says who made it.
        let values = try DaybookProcess.run(
            ["capture", "--slot", database.name, "app.notes", "values"],
            environment: daybook
        )
        #expect(values.status == 0, "\(values.stderr)")

        func session(_ role: String, _ password: String, app: String) throws -> PostgresConnection {
            let string =
                database.connectionString
                .replacingOccurrences(of: "user=postgres", with: "user=\(role)")
                .replacingOccurrences(of: "password=\(ThrowawayServers.password)", with: "password=\(password)")
                + " application_name=\(app)"
            return try PostgresConnection(ConnectionString(string))
        }
        let sessions = [
            try session(clerk, "clerk-secret", app: "web"), try session(clerk, "clerk-secret", app: "batch"),
            try session(auditor, "auditor-secret", app: "web"), try session(auditor, "auditor-secret", app: "batch"),
        ]
        var port = 0
        var service = try DaybookProcess(Workload.runArguments(database), environment: daybook)
        defer { _ = service.stop() }
        var generator = SystemRandomNumberGenerator()
        var nextID: Int64 = 1
        let people = ["alice", "bob", "carol"]
        for round in 0..<60 {
            let connection = sessions[round % sessions.count]
            let table = round % 3 == 0 ? "app.notes" : "app.orders"
            let column = table == "app.notes" ? "body" : "amount"
            let value = table == "app.notes" ? "'n'" : "1"
            let rows = Int64.random(in: 1...20, using: &generator)
            let first = nextID
            nextID += rows
            var sql = "BEGIN;"
            // Two rounds in three declare an actor for the whole transaction.
            if round % 3 != 2 {
                let person = people[round % people.count]
                sql += "SELECT set_config('test.actor', '\(person)', true), set_config('test.app', 'portal', true);"
                sql += "SELECT daybook.act_as('\(person)', 'portal', 'req-\(round)');"
            }
            sql += "INSERT INTO \(table) SELECT g, \(value) FROM generate_series(\(first), \(first + rows - 1)) g;"
            sql += "UPDATE \(table) SET \(column) = \(column) WHERE id BETWEEN \(first) AND \(first + rows / 2);"
            sql += "COMMIT;"
            try connection.simpleQuery(sql)
            // Spread over several 2-second windows.
            Thread.sleep(forTimeInterval: 0.1)
            if round == 20 || round == 40 {
                // SIGKILL, then a new Daybook from the last checkpoint (serving /metrics).
                service.killHard()
                port = try freePort()
                service = try DaybookProcess(
                    Workload.runArguments(database, extra: ["--listen", "127.0.0.1:\(port)"]),
                    environment: daybook
                )
            }
        }
        // A forged message (no `via`) and a NULL actor: their changes count as unattributed.
        let forger = sessions[0]
        try forger.simpleQuery(
            """
            BEGIN;
            SELECT pg_logical_emit_message(true, 'daybook.actor', '{"user":"mallory"}');
            INSERT INTO app.notes VALUES (1000001, 'forged');
            COMMIT;
            BEGIN;
            SELECT daybook.act_as(NULL, 'portal');
            INSERT INTO app.notes VALUES (1000002, 'null actor');
            COMMIT;
            """
        )
        // A transaction larger than logical_decoding_work_mem, streamed in parts before its
        // commit, keeps its actor.
        let large = try session(clerk, "clerk-secret", app: "web")
        try large.simpleQuery(
            """
            BEGIN;
            SELECT set_config('test.actor', 'loader', true), set_config('test.app', 'import', true);
            SELECT daybook.act_as('loader', 'import');
            INSERT INTO app.notes SELECT g, repeat('x', 50) FROM generate_series(2000000, 2020000) g;
            COMMIT;
            """
        )
        try waitUntil("every window with a change closes", log: service) {
            _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: daybook)
            return try database.scalar(
                """
                SELECT count(*) FROM (SELECT DISTINCT floor(extract(epoch FROM pg_xact_commit_timestamp(xmin)) / 2) * 2 AS w
                                        FROM audit.who) a
                 WHERE NOT EXISTS (SELECT 1 FROM daybook.windows d WHERE d.slot_name = $1 AND d.status = 'closed'
                                      AND extract(epoch FROM d.window_start) = a.w)
                """,
                [database.name]
            ) == "0"
        }
        let expected = try database.connection.query(Self.expectedSQL).rows
        let actual = try database.connection.query(Self.actualSQL, [database.name]).rows
        #expect(Set(expected.map { $0[0] }).count >= 3, "\(expected)")
        #expect(actual == expected, "expected \(expected)\nactual \(actual)")
        #expect(expected.contains { $0[1] == "app.notes" && $0[2] == "loader" && $0[4] == "20001" })
        #expect(service.stderr.contains("changes counted as unattributed"), "\(service.stderr.suffix(2000))")
        let metrics = try httpGet(port: port, path: "/metrics").body
        for kind in ["unknown_source", "no_actor"] {
            #expect(metrics.contains(#"daybook_attribution_problems_total{kind="\#(kind)"} 1"#), "\(metrics)")
        }

        // At values, each event carries its actor; unattributed ones carry none.
        #expect(
            try database.scalar(
                "SELECT count(*) FROM daybook.value_events WHERE slot_name = $1 AND actor::jsonb ->> 'actor' = 'loader'",
                [database.name]
            ) == "20001"
        )
        #expect(
            try database.scalar(
                "SELECT count(*) FROM daybook.value_events WHERE slot_name = $1 AND key::jsonb ->> 'id' = '1000001' AND actor IS NULL",
                [database.name]
            ) == "1"
        )

        // The digest names them.
        let window = try #require(
            try database.scalar(
                """
                SELECT to_char(window_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM daybook.actor_windows
                 WHERE slot_name = $1 AND actor = 'loader'
                """,
                [database.name]
            )
        )
        let digest = try DaybookProcess.run(["digest", "--slot", database.name, "--at", window], environment: daybook)
        #expect(digest.status == 0, "\(digest.stderr)")
        #expect(digest.stdout.contains("Who changed it"), "\(digest.stdout)")
        #expect(digest.stdout.contains("by loader 20,001"), "\(digest.stdout)")
        #expect(digest.stdout.contains("through import 20,001"), "\(digest.stdout)")
        let events = try DaybookProcess.run(
            [
                "report", "--slot", database.name, "--events", "--table", "app.notes", "--from", window, "--to",
                "infinity", "--format", "json",
            ],
            environment: daybook
        )
        #expect(events.status == 0, "\(events.stderr)")
        let actors = try events.stdout.split(separator: "\n").flatMap { line -> [[String: String]] in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return (object?["events"] as? [[String: Any]] ?? []).compactMap { $0["actor"] as? [String: String] }
        }
        #expect(actors.count(where: { $0 == ["actor": "loader", "application": "import"] }) == 20_001)
        let text = try DaybookProcess.run(
            [
                "report", "--slot", database.name, "--events", "--table", "app.notes", "--from", window, "--to",
                "infinity",
            ],
            environment: daybook
        )
        #expect(text.stdout.contains("(by loader through import)"), "\(text.stdout.prefix(600))")
    }
}
