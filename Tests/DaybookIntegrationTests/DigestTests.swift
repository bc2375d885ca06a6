import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// The morning digest through the whole path: thirty days of steady load on a server whose
/// clock (libfaketime, started by scripts/test) moves a day at a time, then one day with a
/// mass delete on one table, a TRUNCATE on another and three kinds of DDL on a third. The
/// digest of that day lists exactly those, and nothing for the steady tables.
@Suite(.serialized)
struct DigestTests {
    static let steadyDays = 30

    /// `2026-01-01` plus `offset` days, at `time`.
    static func day(_ offset: Int, _ time: String = "12:00:00") -> String {
        let date = Date(timeIntervalSince1970: 1_767_225_600 + Double(offset) * 86_400)  // 2026-01-01
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: date) + (time.isEmpty ? "" : "T\(time)Z")
    }

    @Test func aSpikeATruncateAndDDLAreListedAndSteadyTablesAreNot() throws {
        guard let clock = FakeClockServer.fromEnvironment() else { return }
        defer { clock.reset() }
        try clock.set(Self.day(0, "00:00:05"))
        let database = try TestDatabase("digest", server: clock.connectionString)
        try database.execute(
            """
            CREATE SCHEMA app;
            CREATE TABLE app.orders (id integer PRIMARY KEY, amount integer);
            CREATE TABLE app.customers (id integer PRIMARY KEY, name text);
            CREATE TABLE app.events (id bigserial PRIMARY KEY, kind text);
            CREATE TABLE app.sessions (id integer PRIMARY KEY);
            CREATE TABLE app.items (id integer PRIMARY KEY, old_note text, price integer);
            CREATE TABLE app.feed (id integer PRIMARY KEY, seen integer);
            INSERT INTO app.events (kind) SELECT 'seed' FROM generate_series(1, 1000);
            INSERT INTO app.feed SELECT g, 0 FROM generate_series(1, 10) g;
            """
        )
        let daybook = ["DAYBOOK_DATABASE": database.connectionString]
        #expect(try DaybookProcess.run(["migrate"], environment: daybook).status == 0)
        let setup = try DaybookProcess.run(
            ["setup", "--slot", database.name, "--schemas", "app"],
            environment: daybook
        )
        #expect(setup.status == 0, "\(setup.stderr)")
        let port = try freePort()
        let service = try DaybookProcess(
            [
                "run", "--slot", database.name, "--window", "1d", "--grace", "2s", "--checkpoint-every", "200ms",
                "--listen", "127.0.0.1:\(port)",
            ],
            environment: daybook
        )
        defer { _ = service.stop() }

        // Thirty days alike: every table changes by the same amounts each day.
        for offset in 1...Self.steadyDays {
            try clock.set(Self.day(offset))
            try database.execute(
                """
                INSERT INTO app.orders SELECT \(offset) * 1000 + g, g FROM generate_series(1, 40) g;
                UPDATE app.orders SET amount = amount + 1 WHERE id > \(offset) * 1000 AND id <= \(offset) * 1000 + 10;
                INSERT INTO app.customers VALUES (\(offset), 'c\(offset)');
                INSERT INTO app.events (kind) SELECT 'daily' FROM generate_series(1, 20);
                DELETE FROM app.events WHERE id IN (SELECT id FROM app.events ORDER BY id LIMIT 20);
                INSERT INTO app.sessions SELECT \(offset) * 100 + g FROM generate_series(1, 5) g;
                INSERT INTO app.items VALUES (\(offset), 'n', \(offset));
                UPDATE app.feed SET seen = seen + 1 WHERE id <= 3;
                """
            )
        }
        try database.execute("ANALYZE app.events")
        // The day: a mass delete, a TRUNCATE, and DDL on app.items (each followed by a change,
        // so the stream describes the table again), while the steady tables go on as before.
        // app.feed does not change at all: it goes silent.
        let spike = Self.steadyDays + 1
        try clock.set(Self.day(spike))
        try database.execute(
            """
            INSERT INTO app.orders SELECT \(spike) * 1000 + g, g FROM generate_series(1, 40) g;
            UPDATE app.orders SET amount = amount + 1 WHERE id > \(spike) * 1000 AND id <= \(spike) * 1000 + 10;
            INSERT INTO app.customers VALUES (\(spike), 'c\(spike)');
            INSERT INTO app.sessions SELECT \(spike) * 100 + g FROM generate_series(1, 5) g;
            DELETE FROM app.events WHERE id IN (SELECT id FROM app.events ORDER BY id LIMIT 600);
            TRUNCATE app.sessions;
            ALTER TABLE app.items ADD COLUMN note text;
            INSERT INTO app.items VALUES (\(spike), 'n', \(spike), 'added');
            ALTER TABLE app.items DROP COLUMN old_note;
            INSERT INTO app.items VALUES (\(spike) + 1000, \(spike), 'dropped');
            ALTER TABLE app.items ALTER COLUMN price TYPE bigint;
            INSERT INTO app.items VALUES (\(spike) + 2000, \(spike), 'retyped');
            """
        )
        // What autovacuum would do after the delete, made deterministic: the estimate the
        // window's close reads is the table after the day (400 rows).
        try database.execute("ANALYZE app.events")
        try clock.set(Self.day(spike + 1, "00:00:05"))
        #expect(try DaybookProcess.run(["heartbeat"], environment: daybook).status == 0)
        try waitUntil("the day of the spike closes", log: service) {
            try database.scalar(
                "SELECT count(*) FROM daybook.windows WHERE status = 'closed' AND window_start = $1::timestamptz",
                [Self.day(spike, "00:00:00")]
            ) == "1"
        }

        let result = try DaybookProcess.run(
            ["digest", "--slot", database.name, "--date", Self.day(spike, ""), "--format", "json"],
            environment: daybook
        )
        #expect(result.status == 0, "\(result.stderr)")
        let digest = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(digest["digest_version"] as? Int == 1)
        #expect(digest["date"] as? String == Self.day(spike, ""))
        let slot = try #require((digest["slots"] as? [[String: Any]])?.first)
        let window = try #require(slot["window"] as? [String: Any])
        #expect(window["state"] as? String == "closed")
        let headline = try #require(slot["headline"] as? [String: Any])
        let mass = try #require(headline["mass_changes"] as? [[String: Any]])
        #expect(mass.count == 2, "\(mass)")
        #expect(mass.contains { $0["table"] as? String == "app.sessions" && $0["kind"] as? String == "truncate" })
        let massDelete = try #require(mass.first { $0["kind"] as? String == "mass_delete" })
        #expect(massDelete["table"] as? String == "app.events")
        #expect(massDelete["count"] as? Int == 600)
        // 600 of the 1,000 rows the table had before the day (its estimate after: 400).
        #expect(abs((massDelete["share"] as? Double ?? 0) - 0.6) < 0.01, "\(massDelete)")
        let unusual = Set(headline["unusual"] as? [String] ?? [])
        #expect(unusual == ["app.events"], "\(headline)")
        #expect(headline["silent"] as? [String] == ["app.feed"], "\(headline)")
        #expect(headline["new"] as? [String] == [], "\(headline)")
        #expect(headline["schema_changed"] as? [String] == ["app.items"], "\(headline)")
        #expect(headline["late_changes"] as? Int == 0)

        // The three statements and their rows commit together, so the stream describes the
        // table once, after all three: one comparison, in the new column order, drops last.
        let changes = try #require(slot["schema_changes"] as? [[String: Any]])
        let described = changes.map {
            "\($0["change"] ?? "") \($0["column"] ?? "") \($0["from"] ?? "-") \($0["to"] ?? "-")"
        }
        #expect(
            described == [
                "column_retyped price integer bigint", "column_added note - text", "column_dropped old_note text -",
            ],
            "\(changes)"
        )
        #expect(changes.allSatisfy { $0["table"] as? String == "app.items" })

        let tables = try #require(slot["tables"] as? [[String: Any]])
        func verdict(_ name: String) -> String? {
            tables.first { $0["table"] as? String == name }?["verdict"] as? String
        }
        for steady in ["app.orders", "app.customers", "app.items"] { #expect(verdict(steady) == "usual", "\(steady)") }
        #expect(verdict("app.events") == "unusual")
        #expect(verdict("app.feed") == "silent")
        let events = try #require(tables.first { $0["table"] as? String == "app.events" })
        let deletes = try #require(
            (events["figures"] as? [[String: Any]])?.first { $0["figure"] as? String == "deletes" }
        )
        #expect(deletes["value"] as? Int == 600)
        #expect(deletes["expected_min"] as? Int == 10 && deletes["expected_max"] as? Int == 30, "\(deletes)")
        #expect(deletes["basis"] as? String == "weekday")
        #expect((events["top_keys"] as? [Any])?.count == 5)

        // Across all slots of the sink (here one): the same section.
        let allSlots = try DaybookProcess.run(
            ["digest", "--all-slots", "--date", Self.day(spike, ""), "--format", "json"],
            environment: daybook
        )
        #expect(allSlots.status == 0, "\(allSlots.stderr)")
        #expect(
            (try JSONSerialization.jsonObject(with: Data(allSlots.stdout.utf8)) as? NSDictionary)
                == (digest as NSDictionary)
        )

        // The API answers the same object; the dashboard's page says the same.
        let api = try httpGet(port: port, path: "/api/v1/digest?date=\(Self.day(spike, ""))")
        #expect(api.status == 200, "\(api.body)")
        let apiDigest = try JSONSerialization.jsonObject(with: Data(api.body.utf8)) as? NSDictionary
        #expect(apiDigest == (digest as NSDictionary))
        let future = try httpGet(port: port, path: "/api/v1/digest?date=2999-01-01")
        #expect(future.status == 404 && future.body.contains("is in the future"), "\(future.body)")
        let page = try httpGet(port: port, path: "/digest?date=\(Self.day(spike, ""))")
        #expect(page.status == 200)
        #expect(page.body.contains("<li class=\"bad\">TRUNCATE: app.sessions (1 time)</li>"), "\(page.body)")
        #expect(page.body.contains("Mass delete: app.events, 600 rows, 60% of the table"))
        #expect(page.body.contains("column price retyped from integer to bigint"))

        // Text for people fits 100 columns and leads with what matters.
        let text = try DaybookProcess.run(
            ["digest", "--slot", database.name, "--date", Self.day(spike, "")],
            environment: daybook
        )
        #expect(text.status == 0)
        let lines = text.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.count <= 100 }, "\(text.stdout)")
        let headlineLines = lines.filter { $0.hasPrefix("  * ") }
        #expect(headlineLines.first?.contains("TRUNCATE: app.sessions") == true, "\(text.stdout)")
        #expect(
            headlineLines.dropFirst().first?.contains("Mass delete: app.events, 600 rows, 60% of the table") == true
        )
        #expect(text.stdout.contains("column price retyped from integer to bigint"))

        // HTML for an email client: inline styles, no script, nothing fetched.
        let html = try DaybookProcess.run(
            ["digest", "--slot", database.name, "--date", Self.day(spike, ""), "--format", "html"],
            environment: daybook
        )
        #expect(html.stdout.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.stdout.contains("<script") && !html.stdout.contains("src=") && !html.stdout.contains("<link"))
        #expect(html.stdout.contains("Mass delete: app.events"))

        // The crontab's nightly digest runs as cron runs it: text for the mail, and a file.
        let crontab = try CrontabTests.load()
        let job = try #require(crontab.jobs.first { $0.command.hasPrefix("daybook digest") })
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("daybook-digest-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let (cronStatus, mail) = try CrontabTests.runAsCron(
            job.command,
            crontab: crontab,
            overrides: [
                "DAYBOOK_DATABASE": database.connectionString, "HOME": home.path, "DAYBOOK_SLOT": database.name,
            ]
        )
        #expect(cronStatus == 0, "\(mail)")
        #expect(mail.hasPrefix("Daybook digest for "), "\(mail)")
        let saved = try FileManager.default.contentsOfDirectory(
            atPath: home.appendingPathComponent("daybook-reports").path
        )
        #expect(saved.count == 1 && saved[0].hasPrefix("daybook-digest-") && saved[0].hasSuffix(".txt"), "\(saved)")

        // A day still open says so and when it closes; a day in the future and an unknown
        // table are one line and exit 64.
        try clock.set(Self.day(spike + 1, "12:00:00"))
        try database.execute("INSERT INTO app.customers VALUES (9999, 'late in the day')")
        try waitUntil("the next day is open", log: service) {
            try database.scalar("SELECT count(*) FROM daybook.windows WHERE status = 'open'") == "1"
        }
        let open = try DaybookProcess.run(
            ["digest", "--slot", database.name, "--date", Self.day(spike + 1, "")],
            environment: daybook
        )
        #expect(open.status == 0)
        #expect(open.stdout.contains("is NOT CLOSED"), "\(open.stdout)")
        // Not silent before the day is over.
        #expect(!open.stdout.contains("Silent"), "\(open.stdout)")
        #expect(open.stdout.contains("no change yet"))
        #expect(open.stdout.contains("It closes when stream time reaches \(Self.day(spike + 2, ""))T00:00:02+00:00"))
        for (arguments, message) in [
            (["--date", "2999-01-01"], "is in the future"),
            (["--date", Self.day(spike, ""), "--table", "app.nothing"], "no table app.nothing"),
            (["--date", "31/12/2026"], "cannot read '31/12/2026' as a date"),
            (["--format", "pdf"], "pdf"),
        ] {
            let bad = try DaybookProcess.run(["digest", "--slot", database.name] + arguments, environment: daybook)
            #expect(bad.status == 64, "\(arguments): \(bad.stderr)")
            #expect(bad.stderr.contains(message), "\(arguments): \(bad.stderr)")
            #expect(bad.stdout.isEmpty)
        }

        // A pruned day says it was pruned, not that nothing happened.
        _ = service.stop()
        let prune = try DaybookProcess.run(
            ["prune", "--slot", database.name, "--keep", "1h", "--all"],
            environment: daybook
        )
        #expect(prune.status == 0, "\(prune.stderr)")
        let pruned = try DaybookProcess.run(
            ["digest", "--slot", database.name, "--date", Self.day(spike, "")],
            environment: daybook
        )
        #expect(pruned.status == 0)
        let prunedText = pruned.stdout.split(separator: "\n").joined(separator: " ")
        #expect(prunedText.contains("was pruned (daybook prune --all): its results are gone, not empty"))
    }
}
