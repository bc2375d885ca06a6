import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// Odd data: schema and identity changes mid-stream, unusual key values, tables coming and
/// going, transactions that spill to disk. Each ends with results equal to the independent
/// count.
@Suite(.serialized)
struct OddDataTests {
    private func closeAndCompare(_ database: TestDatabase, service: DaybookProcess) throws {
        try database.heartbeatUntilEveryWindowCloses("heartbeats close every window", service: service)
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [])
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 2) == [])
        #expect(try database.scalar("SELECT count(*) FROM daybook.late_changes") == "0")
    }

    private func audit(_ database: TestDatabase, _ table: String, _ columns: [String]) throws {
        try database.execute(IndependentCount.auditSQL(table: table, keyColumns: columns))
    }

    /// Columns added, dropped and retyped; the primary key replaced; replica identity
    /// changed; a table renamed, one dropped, one created (and so published) mid-day.
    @Test func schemaAndIdentityChangesMidStream() throws {
        let database = try TestDatabase("ddl")
        try Workload.prepare(database)
        try database.execute(
            """
            CREATE TABLE app.items (id integer PRIMARY KEY, code text NOT NULL, qty integer);
            CREATE TABLE app.doomed (id integer PRIMARY KEY);
            """
        )
        try audit(database, "app.items", ["id"])
        try audit(database, "app.doomed", ["id"])
        let service = try DaybookProcess(
            Workload.runArguments(database),
            environment: ["DAYBOOK_DATABASE": database.connectionString]
        )
        defer { service.stop() }
        let sql = database.connection
        try sql.simpleQuery("INSERT INTO app.items VALUES (1, 'a', 1), (2, 'b', 2); INSERT INTO app.doomed VALUES (1)")
        try sql.simpleQuery("ALTER TABLE app.items ADD COLUMN note text")
        try sql.simpleQuery(
            "UPDATE app.items SET note = 'n' WHERE id = 1; INSERT INTO app.items VALUES (3, 'c', 3, 'x')"
        )
        try sql.simpleQuery("ALTER TABLE app.items DROP COLUMN qty")
        try sql.simpleQuery("UPDATE app.items SET note = 'm' WHERE id = 2")
        try sql.simpleQuery("ALTER TABLE app.items ALTER COLUMN id TYPE bigint")
        try sql.simpleQuery("INSERT INTO app.items VALUES (4, 'd', 'y'); DELETE FROM app.items WHERE id = 3")
        // A new primary key in one transaction, with the audit following it.
        try sql.simpleQuery(
            """
            BEGIN;
            ALTER TABLE app.items DROP CONSTRAINT items_pkey;
            ALTER TABLE app.items ADD PRIMARY KEY (code);
            DROP TRIGGER audit_app_items ON app.items;
            CREATE TRIGGER audit_app_items AFTER INSERT OR UPDATE OR DELETE ON app.items
                FOR EACH ROW EXECUTE FUNCTION audit.capture('code');
            COMMIT;
            """
        )
        try sql.simpleQuery(
            "UPDATE app.items SET note = 'z' WHERE code = 'a'; INSERT INTO app.items VALUES (5, 'e', NULL)"
        )
        // Replica identity FULL on a table with a primary key: keys stay the primary key.
        try sql.simpleQuery("ALTER TABLE app.accounts REPLICA IDENTITY FULL")
        try sql.simpleQuery("INSERT INTO app.accounts VALUES (1, 1); UPDATE app.accounts SET balance = 2 WHERE id = 1")
        try sql.simpleQuery("ALTER TABLE app.accounts REPLICA IDENTITY DEFAULT")
        try sql.simpleQuery("UPDATE app.accounts SET balance = 3 WHERE id = 1")
        // Renamed, dropped, created.
        try sql.simpleQuery("INSERT INTO app.tags VALUES ('before the rename', 1)")
        try sql.simpleQuery("ALTER TABLE app.tags RENAME TO labels")
        try sql.simpleQuery("INSERT INTO app.labels VALUES ('renamed', 1)")
        try sql.simpleQuery("DROP TABLE app.doomed")
        try sql.simpleQuery("CREATE TABLE app.newcomer (id integer PRIMARY KEY)")
        try audit(database, "app.newcomer", ["id"])
        try sql.simpleQuery("INSERT INTO app.newcomer VALUES (1), (2)")
        try closeAndCompare(database, service: service)
        let tables = try sql.query("SELECT DISTINCT table_name FROM daybook.table_windows ORDER BY 1").rows.compactMap {
            $0[0]
        }
        #expect(
            tables.contains("app.labels") && tables.contains("app.newcomer") && tables.contains("app.doomed"),
            "\(tables)"
        )
        // Each shape the stream described, once, in order: name, "*" for a key column, type OID.
        let itemShapes = try sql.query(
            """
            SELECT (SELECT string_agg(c->>'name' || CASE WHEN (c->>'key')::boolean THEN '*' ELSE '' END
                                      || ':' || (c->>'type'), ',' ORDER BY o)
                      FROM jsonb_array_elements(columns) WITH ORDINALITY AS x(c, o))
              FROM daybook.table_shapes WHERE schema_name = 'app' AND table_name = 'items' ORDER BY lsn
            """
        ).rows.compactMap { $0[0] }
        #expect(
            itemShapes == [
                "id*:23,code:25,qty:23", "id*:23,code:25,qty:23,note:25", "id*:23,code:25,note:25",
                "id*:20,code:25,note:25", "id:20,code*:25,note:25",
            ]
        )
        let identities = try sql.query(
            "SELECT replica_identity FROM daybook.table_shapes WHERE table_name = 'accounts' ORDER BY lsn"
        ).rows.compactMap { $0[0] }
        #expect(identities == ["f", "d"])

        // The digest of each window with a change of shape says what changed, as each server
        // version's Relation messages describe it.
        var notes: Set<String> = []
        let windows = try sql.query(
            """
            SELECT DISTINCT to_char(commit_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
              FROM daybook.table_shapes WHERE schema_name = 'app'
            """
        ).rows.compactMap { $0[0] }
        for moment in windows {
            let digest = try DaybookProcess.run(
                ["digest", "--slot", database.name, "--at", moment, "--format", "json"],
                environment: ["DAYBOOK_DATABASE": database.connectionString]
            )
            #expect(digest.status == 0, "\(digest.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(digest.stdout.utf8)) as? [String: Any]
            let slot = (object?["slots"] as? [[String: Any]])?.first
            for note in slot?["schema_changes"] as? [[String: Any]] ?? []
            where note["change"] as? String != "table_seen" {
                notes.insert(
                    "\(note["table"] ?? "") \(note["change"] ?? "") \(note["column"] ?? "-") "
                        + "\(note["from"] ?? "-") \(note["to"] ?? "-")"
                )
            }
        }
        #expect(
            notes == [
                "app.items column_added note - text", "app.items column_dropped qty integer -",
                "app.items column_retyped id integer bigint", "app.items key_changed - (id) (code)",
                "app.accounts identity_changed - full default", "app.labels table_renamed - app.tags app.labels",
            ],
            "\(notes)"
        )
    }

    /// A table added to the publication mid-day: its changes count from the ALTER on, and
    /// nothing before it is counted or lost from the other tables.
    @Test func tableAddedToThePublicationMidDay() throws {
        let database = try TestDatabase("addtable")
        try Workload.prepare(database)
        try database.execute("CREATE SCHEMA extra; CREATE TABLE extra.items (id integer PRIMARY KEY, n integer)")
        let service = try DaybookProcess(
            Workload.runArguments(database),
            environment: ["DAYBOOK_DATABASE": database.connectionString]
        )
        defer { service.stop() }
        let sql = database.connection
        try sql.simpleQuery("INSERT INTO extra.items VALUES (1, 0), (2, 0); INSERT INTO app.accounts VALUES (1, 0)")
        try sql.simpleQuery("ALTER PUBLICATION daybook ADD TABLE extra.items")
        // Audited from here on, as the stream publishes it from here on.
        try audit(database, "extra.items", ["id"])
        try sql.simpleQuery("UPDATE extra.items SET n = 1 WHERE id = 1; INSERT INTO extra.items VALUES (3, 0)")
        try sql.simpleQuery("UPDATE app.accounts SET balance = 1 WHERE id = 1; DELETE FROM extra.items WHERE id = 2")
        try closeAndCompare(database, service: service)
        // Summed over windows: with 2-second windows the changes may fall into two of them.
        let counts = try sql.query(
            "SELECT sum(inserts), sum(updates), sum(deletes) FROM daybook.table_windows WHERE table_name = 'extra.items'"
        ).rows
        #expect(counts.first == ["1", "1", "1"], "\(counts)")
    }

    /// Keys that are NULL (identity FULL), Unicode, long, binary; a table without a primary
    /// key under identity DEFAULT (counted per table, with a warning naming it).
    @Test func unusualKeyValues() throws {
        let database = try TestDatabase("keys")
        try Workload.prepare(database)
        try database.execute(
            """
            CREATE TABLE app.words (word text PRIMARY KEY, n integer);
            CREATE TABLE app.blobs (id bytea PRIMARY KEY, n integer);
            CREATE TABLE app.events (at timestamptz, what text);
            """
        )
        try audit(database, "app.words", ["word"])
        try audit(database, "app.blobs", ["id"])
        try audit(database, "app.events", [])
        let service = try DaybookProcess(
            Workload.runArguments(database),
            environment: ["DAYBOOK_DATABASE": database.connectionString]
        )
        defer { service.stop() }
        let sql = database.connection
        try sql.query(
            "INSERT INTO app.words VALUES ($1, 1), ($2, 1), ($3, 1), ($4, 1)",
            [
                "ключ", "鍵 🔑", "tab\there \"quoted\" \\ back", String(repeating: "long-", count: 400),
            ]
        )
        try sql.query("UPDATE app.words SET n = 2 WHERE word = $1", ["鍵 🔑"])
        try sql.simpleQuery(
            "INSERT INTO app.blobs VALUES ('\\x00ff10'::bytea, 1), (''::bytea, 2); DELETE FROM app.blobs WHERE n = 2"
        )
        try sql.simpleQuery(
            "INSERT INTO app.nopk VALUES (NULL, NULL), (NULL, 'x'); UPDATE app.nopk SET b = 'y' WHERE b = 'x'"
        )
        try sql.simpleQuery("INSERT INTO app.events VALUES (now(), 'a'), (now(), 'b')")
        try closeAndCompare(database, service: service)
        #expect(service.stderr.contains("table has no primary key; counting it per table only"))
        #expect(service.stderr.contains("app.events"))
        #expect(try sql.query("SELECT count(*) FROM daybook.key_windows WHERE table_name = 'app.events'").scalar == "0")
        #expect(
            try sql.query("SELECT inserts FROM daybook.table_windows WHERE table_name = 'app.events'").scalar == "2"
        )
    }

    /// A transaction larger than logical_decoding_work_mem (set to its 64kB minimum), with
    /// `--no-streaming`: the server spills it to disk and sends it after commit; Daybook
    /// counts it exactly. (Streamed, the default: `StreamedTransactionTests`.)
    @Test func transactionThatSpillsToDisk() throws {
        let database = try TestDatabase("spill")
        try Workload.prepare(database)
        try database.admin.simpleQuery("ALTER SYSTEM SET logical_decoding_work_mem = '64kB'")
        try database.admin.simpleQuery("SELECT pg_reload_conf()")
        defer {
            _ = try? database.admin.simpleQuery("ALTER SYSTEM RESET logical_decoding_work_mem")
            _ = try? database.admin.simpleQuery("SELECT pg_reload_conf()")
        }
        let service = try DaybookProcess(
            Workload.runArguments(database, extra: ["--no-streaming"]),
            environment: ["DAYBOOK_DATABASE": database.connectionString]
        )
        defer { service.stop() }
        try database.execute(
            """
            BEGIN;
            INSERT INTO app.accounts SELECT g, 0 FROM generate_series(1, 20000) g;
            UPDATE app.accounts SET balance = 1 WHERE id % 3 = 0;
            DELETE FROM app.accounts WHERE id % 5 = 0;
            COMMIT;
            """
        )
        try closeAndCompare(database, service: service)
        let spilled = try database.scalar(
            "SELECT spill_txns > 0 FROM pg_stat_replication_slots WHERE slot_name = $1",
            [database.name]
        )
        #expect(spilled == "t", "the transaction really spilled to disk")
    }
}
