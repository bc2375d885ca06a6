import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// Columns of a `values` table kept as keyed hashes or masked (`capture … --hash COLUMN --mask
/// COLUMN --key-file FILE`): a sentinel written into a hashed, a masked and an excluded column,
/// across a SIGKILL of Daybook, is nowhere in a dump of the sink, in Daybook's log or in its
/// reports; each stored hash is the HMAC-SHA256 Python's `hmac` computes with the same key,
/// equal across the restart; a masked column shows as a marker that says when it changed, and
/// the changed columns are still right.
@Suite(.serialized)
struct ValueProtectionTests {
    /// `pg_dump` of the sink's data (the daybook schema): where a value must not be.
    static func sinkDump(_ database: TestDatabase) throws -> (status: Int32, output: String) {
        let bindir = ProcessInfo.processInfo.environment["DAYBOOK_PG_BINDIR"] ?? ""
        let pgDump =
            FileManager.default.isExecutableFile(atPath: bindir + "/pg_dump") ? bindir + "/pg_dump" : "/usr/bin/pg_dump"
        let dump = try runProgram(
            URL(fileURLWithPath: pgDump),
            ["--data-only", "--schema", "daybook", "--dbname", database.connectionString]
        )
        return (dump.status, dump.output)
    }

    /// A migrated sink and `table` set up at `values`, as each privacy test starts.
    static func migrateAndCaptureValues(of table: String, _ environment: [String: String]) throws {
        #expect(try DaybookProcess.run(["migrate"], environment: environment).status == 0)
        let setup = try DaybookProcess.run(
            ["setup", "--tables", table, "--capture", "values"],
            environment: environment
        )
        #expect(setup.status == 0, "\(setup.stderr)")
    }

    /// A new folder for a test's key files (the caller removes it).
    static func keyFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("daybook-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func hashedAndMaskedColumnsHoldHashesAndMarkersButNoValue() throws {
        let database = try TestDatabase("hashed")
        let environment = ["DAYBOOK_DATABASE": database.connectionString, "DAYBOOK_SLOT": database.name]
        try database.connection.simpleQuery(
            """
            CREATE SCHEMA app;
            CREATE TABLE app.customers (id integer PRIMARY KEY, email text, tax_id text, note text, city text);
            """
        )
        try Self.migrateAndCaptureValues(of: "app.customers", environment)
        let folder = try Self.keyFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let keyFile = folder.appendingPathComponent("values.key")
        let key = UUID().uuidString.replacingOccurrences(of: "-", with: "") + "0123456789abcdef0123"
        try Data((key + "\n").utf8).write(to: keyFile)
        let shortKey = folder.appendingPathComponent("short.key")
        try Data("too short\n".utf8).write(to: shortKey)

        // Bad input: one line, non-zero, nothing set.
        let capture = ["capture", "app.customers", "values"]
        for (arguments, status, words) in [
            (["--hash", "email"], 64, "--hash and --mask need --key-file"),
            (["--hash", "email", "--mask", "email", "--key-file", keyFile.path], 64, "both hashed and masked"),
            (["--hash", "nosuch", "--key-file", keyFile.path], 64, "has no column nosuch"),
            (["--mask", "id", "--key-file", keyFile.path], 64, "part of app.customers's key"),
            (["--hash", "note", "--exclude-columns", "note", "--key-file", keyFile.path], 64, "note is excluded"),
            (["--hash", "email", "--key-file", shortKey.path], 2, "use at least 32"),
            (["--hash", "email", "--key-file", folder.appendingPathComponent("none").path], 2, "does not exist"),
        ] {
            let refused = try DaybookProcess.run(capture + arguments, environment: environment)
            #expect(
                refused.status == Int32(status) && refused.stderr.contains(words),
                "\(arguments): \(refused.stderr)"
            )
        }
        #expect(
            try database.scalar("SELECT count(*) FROM daybook.capture WHERE cardinality(hashed_columns) > 0") == "0"
        )
        let hashed = try DaybookProcess.run(
            capture + ["--hash", "email", "--mask", "tax_id", "--exclude-columns", "note", "--key-file", keyFile.path],
            environment: environment
        )
        #expect(hashed.status == 0, "\(hashed.stderr)")
        #expect(hashed.stdout.contains("masked: tax_id; hashed: email; key "), "\(hashed.stdout)")
        let status = try DaybookProcess.run(["status"], environment: environment)
        #expect(status.stdout.contains("never: note, masked: tax_id, hashed: email (key "), "\(status.stdout)")

        let sentinel = "SENTINEL-7f3a-\(UUID().uuidString)"
        var service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        defer { _ = service.stop() }
        try database.execute(
            """
            INSERT INTO app.customers
            SELECT g, 'a' || g || '\(sentinel)@example.org', 'TAX-\(sentinel)-' || g, 'note \(sentinel)', 'Berlin'
              FROM generate_series(1, 3) g
            """
        )
        // The updates in a later window than the inserts, so that its changed columns are theirs.
        Thread.sleep(forTimeInterval: 2.1)
        try database.execute("UPDATE app.customers SET email = 'new-\(sentinel)@example.org' WHERE id = 1")
        try database.execute("UPDATE app.customers SET city = 'Paris' WHERE id = 2")
        try database.execute("UPDATE app.customers SET tax_id = 'TAX-\(sentinel)-new' WHERE id = 3")
        try database.execute("UPDATE app.customers SET tax_id = 'TAX-\(sentinel)-new', city = 'Lyon' WHERE id = 3")
        try waitUntil("the first changes are in the sink", log: service) {
            try database.scalar("SELECT count(*) FROM daybook.value_events") == "7"
        }
        // While the day is open, a masked value is a tag, never the value.
        let open = try database.connection.query(
            """
            SELECT count(*) FILTER (WHERE starts_with(v.new_row::jsonb ->> 'tax_id', chr(57344) || 'mask:')),
                   count(*) FILTER (WHERE NOT starts_with(v.new_row::jsonb ->> 'tax_id', chr(57344) || 'mask:'))
              FROM daybook.value_events v JOIN daybook.windows w USING (slot_name, window_start)
             WHERE w.status = 'open'
            """
        ).rows.first
        #expect(open?[0] != "0" && open?[1] == "0", "\(String(describing: open))")
        service.killHard()
        service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        // After the restart: a value equal to one hashed before it.
        try database.execute(
            "INSERT INTO app.customers VALUES (4, 'a1\(sentinel)@example.org', NULL, 'note \(sentinel)', 'Rome')"
        )
        try waitUntil("the day closes", log: service) {
            _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment)
            return try database.scalar("SELECT count(*) FROM daybook.windows WHERE status <> 'closed'") == "0"
                && database.scalar("SELECT count(*) FROM daybook.value_events") == "8"
        }
        _ = service.stop()

        // Each stored hash is Python's HMAC-SHA256 of the value under the key.
        func python(_ value: String, key: String = key) throws -> String {
            let result = try runProgram(
                URL(fileURLWithPath: "/usr/bin/env"),
                [
                    "python3", "-c",
                    "import hmac, hashlib, sys; print('hmac:' + hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())",
                    key, value,
                ]
            )
            return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let events = try database.connection.query(
            """
            SELECT key::jsonb ->> 'id', op, new_row::jsonb ->> 'email', new_row::jsonb ->> 'tax_id',
                   new_row::jsonb ? 'note', new_row::jsonb ->> 'city'
              FROM daybook.value_events ORDER BY lsn, seq
            """
        ).rows
        #expect(events.count == 8)
        #expect(events.first?[2] == (try python("a1\(sentinel)@example.org")))
        // Masked: the marker, "changed" on the one event whose value changed, NULL as null.
        #expect(events.filter { $0[1] == "I" && $0[0] != "4" }.allSatisfy { $0[3] == "(masked)" }, "\(events)")
        #expect(
            events.filter { $0[0] == "3" && $0[1] == "U" }.map { $0[3] } == ["(masked, changed)", "(masked)"],
            "\(events)"
        )
        #expect(events.first { $0[0] == "2" && $0[1] == "U" }?[3] == "(masked)")
        #expect(
            try database.scalar(
                "SELECT count(*) FROM daybook.value_events WHERE strpos(new_row, chr(57344)) > 0"
            ) == "0",
            "no tag stays in a closed day"
        )
        #expect(events.allSatisfy { $0[4] == "f" }, "the excluded note is not kept at all")
        let updated = events.first { $0[0] == "1" && $0[1] == "U" }
        #expect(updated?[2] == (try python("new-\(sentinel)@example.org")))
        // Equal values hash equal, across the restart; NULL stays null.
        let afterRestart = events.last
        #expect(afterRestart?[0] == "4" && afterRestart?[2] == events.first?[2])
        #expect(afterRestart?[3] == nil)

        // Changed columns are still right: 1's email changed, 2's did not (its city did).
        let changed = try database.connection.query(
            """
            SELECT key::jsonb ->> 'id', changed::text FROM daybook.key_values
             WHERE window_start = (SELECT window_start FROM daybook.value_events WHERE op = 'U' LIMIT 1)
             ORDER BY (key::jsonb ->> 'id')::int
            """
        ).rows
        #expect(changed.first { $0[0] == "1" }?[1]?.contains("\"email\"") == true, "\(changed)")
        #expect(changed.first { $0[0] == "2" }?[1]?.contains("\"city\"") == true, "\(changed)")
        #expect(changed.first { $0[0] == "2" }?[1]?.contains("\"email\"") == false, "\(changed)")
        #expect(changed.first { $0[0] == "2" }?[1]?.contains("\"tax_id\"") == false, "\(changed)")
        #expect(
            changed.first { $0[0] == "3" }?[1]?.contains(
                "\"tax_id\": {\"after\": \"(masked)\", \"before\": \"(masked)\"}"
            )
                == true,
            "\(changed)"
        )

        // A key file that now holds another key stops the run with one line, before anything of
        // the table is stored; with the key back, the run goes on.
        let otherKey = String(repeating: "9c", count: 24)
        try Data((otherKey + "\n").utf8).write(to: keyFile)
        let refused = try DaybookProcess(Workload.runArguments(database), environment: environment)
        try database.execute("INSERT INTO app.customers VALUES (5, 'e5@example.org', NULL, NULL, 'Oslo')")
        #expect(refused.wait() == 2)
        #expect(refused.stderr.contains("holds another key"), "\(refused.stderr)")
        #expect(try database.scalar("SELECT count(*) FROM daybook.value_events") == "8")
        try Data((key + "\n").utf8).write(to: keyFile)

        // Rotation: a new key file is a new rule, from then on; earlier events keep their hashes.
        let newKeyFile = folder.appendingPathComponent("values-2.key")
        try Data((otherKey + "\n").utf8).write(to: newKeyFile)
        let rotated = try DaybookProcess.run(
            capture + [
                "--hash", "email", "--mask", "tax_id", "--exclude-columns", "note", "--key-file", newKeyFile.path,
            ],
            environment: environment
        )
        #expect(rotated.status == 0, "\(rotated.stderr)")
        try database.execute("INSERT INTO app.customers VALUES (6, 'e6@example.org', NULL, NULL, 'Oslo')")
        service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        try waitUntil("the rows after the rotation are in the sink", log: service) {
            try database.scalar("SELECT count(*) FROM daybook.value_events") == "10"
        }
        _ = service.stop()
        let rotatedEvents = try database.connection.query(
            "SELECT key::jsonb ->> 'id', new_row::jsonb ->> 'email' FROM daybook.value_events ORDER BY lsn, seq"
        ).rows
        #expect(rotatedEvents.first?[1] == events.first?[2], "earlier events keep their hashes")
        #expect(
            rotatedEvents.first { $0[0] == "5" }?[1] == (try python("e5@example.org")),
            "before the rotation: the old key"
        )
        #expect(rotatedEvents.first { $0[0] == "6" }?[1] == (try python("e6@example.org", key: otherKey)))

        // A masked column renamed: under its new name it would be kept as it is, so the run stops
        // with one line before anything of the table is stored.
        try database.execute("ALTER TABLE app.customers RENAME COLUMN tax_id TO tax_number")
        let renamed = try DaybookProcess(Workload.runArguments(database), environment: environment)
        try database.execute(
            "INSERT INTO app.customers VALUES (7, 'e7@example.org', 'TAX-\(sentinel)-7', NULL, 'Oslo')"
        )
        #expect(renamed.wait() == 2)
        #expect(
            renamed.stderr.contains("column tax_id of app.customers") && renamed.stderr.contains("is gone"),
            "\(renamed.stderr)"
        )

        // The sentinel is nowhere Daybook keeps or says anything.
        let report = try DaybookProcess.run(
            ["report", "--date", "today", "--events", "--table", "app.customers", "--format", "json"],
            environment: environment
        )
        #expect(report.status == 0 && report.stdout.contains("hmac:"), "\(report.stderr)")
        // The report says which rule the day's values were kept under.
        #expect(
            report.stderr.contains("values of app.customers: email hashed (key ")
                && report.stderr.contains("tax_id masked, note not kept, by the rule set "),
            "\(report.stderr)"
        )
        let dump = try Self.sinkDump(database)
        #expect(dump.status == 0 && dump.output.contains("value_events"), "\(dump.output.prefix(500))")
        for (place, text) in [
            ("the sink's dump", dump.output), ("the log", service.stderr + service.stdout),
            ("the report", report.stdout + report.stderr),
            ("status", status.stdout),
        ] {
            #expect(!text.contains(sentinel), "the sentinel is in \(place)")
        }
    }

    /// `daybook forget` of one key, of a closed day and of a day still open while `run` runs:
    /// afterwards a dump of the sink holds none of its values (another key's stay), the counts
    /// are unchanged, the erasure is logged once, the report shows the key's events with
    /// `(forgotten)` values, and the later close of the open day does not bring them back.
    @Test func forgetErasesAKeysValuesEverywhereAndKeepsTheCounts() throws {
        let database = try TestDatabase("forget")
        let environment = ["DAYBOOK_DATABASE": database.connectionString, "DAYBOOK_SLOT": database.name]
        try database.connection.simpleQuery(
            """
            CREATE SCHEMA app;
            CREATE TABLE app.customers (id integer PRIMARY KEY, email text, note text);
            CREATE TABLE app.orders (id integer PRIMARY KEY, email text, total integer);
            """
        )
        #expect(try DaybookProcess.run(["migrate"], environment: environment).status == 0)
        #expect(
            try DaybookProcess.run(
                ["setup", "--tables", "app.customers", "app.orders", "--capture", "values"],
                environment: environment
            ).status == 0
        )
        // The orders' email is hashed: a subject is found there by the value's hash.
        let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("daybook-\(UUID().uuidString).key")
        try Data(String(repeating: "3d", count: 32).utf8).write(to: keyFile)
        defer { try? FileManager.default.removeItem(at: keyFile) }
        let hashed = try DaybookProcess.run(
            ["capture", "app.orders", "values", "--hash", "email", "--key-file", keyFile.path],
            environment: environment
        )
        #expect(hashed.status == 0, "\(hashed.stderr)")
        let sentinel = "SENTINEL-\(UUID().uuidString)"
        let service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        defer { _ = service.stop() }
        try database.execute(
            "INSERT INTO app.customers SELECT g, 'k' || g || '-\(sentinel)@example.org', 'k' || g || '-\(sentinel)' FROM generate_series(1, 3) g"
        )
        try waitUntil("the first day closes", log: service) {
            _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment)
            return try database.scalar("SELECT count(*) FROM daybook.key_values") == "3"
        }
        // Key 2 changes again in a day still open when it is forgotten.
        try database.execute("UPDATE app.customers SET note = 'k2-again-\(sentinel)' WHERE id = 2")
        try waitUntil("the open day's change is in the sink", log: service) {
            try database.scalar("SELECT count(*) FROM daybook.value_events") == "4"
        }
        let counts =
            "SELECT sum(inserts)::text || '/' || sum(updates)::text FROM daybook.table_windows WHERE table_name = 'app.customers'"
        let countsBefore = try database.scalar(counts)

        let forget = ["forget", "--table", "app.customers", "--key"]
        let dryRun = try DaybookProcess.run(forget + ["{\"id\": 2}", "--dry-run"], environment: environment)
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        #expect(
            dryRun.stdout.contains("would erase the values of 2 events, the changed columns of 1 closed days"),
            "\(dryRun.stdout)"
        )
        #expect(try database.scalar("SELECT count(*) FROM daybook.value_events WHERE new_row LIKE '%k2-%'") == "2")
        let erased = try DaybookProcess.run(forget + ["{\"id\": 2}"], environment: environment)
        #expect(
            erased.status == 0 && erased.stdout.hasPrefix("erased the values of 2 events"),
            "\(erased.stdout)\(erased.stderr)"
        )
        let nothing = try DaybookProcess.run(forget + ["{\"id\": \"99\"}"], environment: environment)
        #expect(nothing.status == 0 && nothing.stdout.contains("nothing to forget"), "\(nothing.stdout)")
        let malformed = try DaybookProcess.run(forget + ["id=2"], environment: environment)
        #expect(malformed.status == 64 && malformed.stderr.contains("not a JSON object"), "\(malformed.stderr)")
        #expect(
            try database.scalar("SELECT count(*) || ' ' || min(table_name) || ' ' || min(key) FROM daybook.erasures")
                == "1 app.customers {\"id\":\"2\"}"
        )
        #expect(try database.scalar("SELECT requested_by = current_user FROM daybook.erasures") == "t")

        // A subject across two tables, by a column's value: customer 3 and their order.
        try database.execute(
            "INSERT INTO app.orders VALUES (10, 'k3-\(sentinel)@example.org', 30), (11, 'k1-\(sentinel)@example.org', 11)"
        )
        try waitUntil("the orders are in the sink", log: service) {
            try database.scalar("SELECT count(*) FROM daybook.value_events WHERE table_name = 'app.orders'") == "2"
        }
        let subject = try DaybookProcess.run(
            ["forget", "--column", "email", "--value", "k3-\(sentinel)@example.org"],
            environment: environment
        )
        #expect(subject.status == 0, "\(subject.stderr)")
        #expect(subject.stdout.contains("app.customers {\"id\":\"3\"}"), "\(subject.stdout)")
        #expect(subject.stdout.contains("app.orders {\"id\":\"10\"}"), "\(subject.stdout)")
        #expect(!subject.stdout.contains(sentinel), "the value is not repeated: \(subject.stdout)")
        #expect(try database.scalar("SELECT count(*) FROM daybook.erasures") == "3", "one row per table and key")
        #expect(
            try database.scalar(
                "SELECT new_row::jsonb ->> 'total' FROM daybook.value_events WHERE table_name = 'app.orders' AND key = '{\"id\":\"10\"}'"
            ) == "(forgotten)"
        )
        #expect(
            try database.scalar(
                "SELECT new_row::jsonb ->> 'total' FROM daybook.value_events WHERE table_name = 'app.orders' AND key = '{\"id\":\"11\"}'"
            ) == "11"
        )

        // The open day closes after the erasure: its close folds what is stored, erased.
        try waitUntil("every day closes", log: service) {
            _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment)
            return try database.scalar("SELECT count(*) FROM daybook.windows WHERE status <> 'closed'") == "0"
                && database.scalar("SELECT count(*) FROM daybook.key_values") == "6"
        }
        #expect(try database.scalar(counts) == countsBefore, "the counts stay")
        let dump = try Self.sinkDump(database)
        #expect(dump.status == 0)
        #expect(
            !dump.output.contains("k2-") && !dump.output.contains("k3-"),
            "no value of a forgotten key is left in the sink"
        )
        #expect(dump.output.contains("k1-\(sentinel)"), "another key's values stay")
        let report = try DaybookProcess.run(
            ["report", "--date", "today", "--events", "--table", "app.customers", "--format", "json"],
            environment: environment
        )
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("k1-\(sentinel)"), "\(report.stdout)")
        #expect(report.stdout.contains("(forgotten)") && !report.stdout.contains("k2-"), "\(report.stdout)")
    }

    /// A personal key (an email as primary key), hashed: every place the sink files keys holds
    /// the hash Python computes (per-key rows, events, images, closed days), at values and at
    /// keys, the images too; `forget` finds the key by its plain value.
    @Test func aHashedKeyColumnIsFiledUnderItsHashEverywhere() throws {
        let database = try TestDatabase("hashed_key")
        let environment = ["DAYBOOK_DATABASE": database.connectionString, "DAYBOOK_SLOT": database.name]
        try database.connection.simpleQuery(
            """
            CREATE SCHEMA app;
            CREATE TABLE app.people (email text PRIMARY KEY, name text);
            CREATE TABLE app.logins (email text PRIMARY KEY, at timestamptz);
            """
        )
        #expect(try DaybookProcess.run(["migrate"], environment: environment).status == 0)
        #expect(
            try DaybookProcess.run(["setup", "--tables", "app.people", "app.logins"], environment: environment).status
                == 0
        )
        let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("daybook-\(UUID().uuidString).key")
        let key = String(repeating: "7e", count: 32)
        try Data(key.utf8).write(to: keyFile)
        defer { try? FileManager.default.removeItem(at: keyFile) }
        for (table, level) in [("app.people", "values"), ("app.logins", "keys")] {
            let hashed = try DaybookProcess.run(
                ["capture", table, level, "--hash", "email", "--key-file", keyFile.path],
                environment: environment
            )
            #expect(hashed.status == 0, "\(table): \(hashed.stderr)")
        }
        let notKey = try DaybookProcess.run(
            ["capture", "app.people", "keys", "--hash", "name", "--key-file", keyFile.path],
            environment: environment
        )
        #expect(notKey.status == 64 && notKey.stderr.contains("only key columns"), "\(notKey.stderr)")

        let sentinel = "SENTINEL-\(UUID().uuidString)"
        let service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        defer { _ = service.stop() }
        try database.execute("INSERT INTO app.people VALUES ('p1-\(sentinel)@example.org', 'Ada')")
        try database.execute("UPDATE app.people SET name = 'Ada L.' WHERE email = 'p1-\(sentinel)@example.org'")
        try database.execute("INSERT INTO app.logins VALUES ('p1-\(sentinel)@example.org', now())")
        try waitUntil("the day closes", log: service) {
            _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment)
            return try database.scalar("SELECT count(*) FROM daybook.windows WHERE status <> 'closed'") == "0"
                && database.scalar("SELECT count(*) FROM daybook.key_values") == "1"
        }
        let expected = try runProgram(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", "-c",
                "import hmac, hashlib, sys; print('{\"email\":\"hmac:' + hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest() + '\"}')",
                key, "p1-\(sentinel)@example.org",
            ]
        ).output.trimmingCharacters(in: .whitespacesAndNewlines)
        for query in [
            "SELECT DISTINCT key FROM daybook.key_changes WHERE table_name = 'app.people'",
            "SELECT DISTINCT key FROM daybook.key_changes WHERE table_name = 'app.logins'",
            "SELECT DISTINCT key FROM daybook.value_events",
            "SELECT key FROM daybook.key_images",
            "SELECT key::text FROM daybook.key_values",
        ] {
            let keys = try database.connection.query(query).rows.map { $0[0] ?? "" }
            #expect(
                keys.count == 1 && keys.first?.replacingOccurrences(of: " ", with: "") == expected,
                "\(query): \(keys)"
            )
        }
        #expect(
            try database.scalar(
                "SELECT count(*) FROM daybook.value_events WHERE new_row LIKE '%' || $1 || '%'",
                [sentinel]
            )
                == "0",
            "the images hold the hash too"
        )
        let forget = try DaybookProcess.run(
            ["forget", "--table", "app.people", "--key", "{\"email\": \"p1-\(sentinel)@example.org\"}", "--dry-run"],
            environment: environment
        )
        #expect(forget.status == 0 && forget.stdout.contains("would erase the values of 2 events"), "\(forget.stdout)")
        let dump = try Self.sinkDump(database)
        #expect(dump.status == 0 && !dump.output.contains(sentinel), "the sentinel is in the sink")
    }
}
