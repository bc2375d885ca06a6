import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// The whole path on a real PostgreSQL: changes of every kind, quiet, heartbeats, final
/// results equal to an independent count from audit triggers.
@Suite(.serialized)
struct EndToEndTests {
    @Test func everyKindOfChangeMatchesTheIndependentCount() throws {
        let database = try TestDatabase("e2e")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        defer { _ = service.stop() }

        let sql = database.connection
        try sql.simpleQuery(
            """
            INSERT INTO app.accounts VALUES (1, 10), (2, 20), (3, 30);
            INSERT INTO app.pairs VALUES (1, 'a', 1), (1, 'b', 2);
            INSERT INTO app.tags VALUES ('red', 1), ('blue', 2);
            INSERT INTO app.docs VALUES ('6f1c1f9e-8b0a-4c55-9d2a-0a4f7f0e2b11', 'first',
                (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 1000) i));
            INSERT INTO app.nopk VALUES (1, 'x'), (2, 'y'), (NULL, 'z');
            INSERT INTO app.scratch SELECT generate_series(1, 5);
            """
        )
        try sql.simpleQuery("UPDATE app.accounts SET balance = balance + 1 WHERE id = 2")
        // TOASTed body unchanged: pgoutput sends it as 'u'.
        try sql.simpleQuery("UPDATE app.docs SET title = 'second' WHERE id = '6f1c1f9e-8b0a-4c55-9d2a-0a4f7f0e2b11'")
        try sql.simpleQuery("UPDATE app.nopk SET b = 'yy' WHERE a = 2")
        try sql.simpleQuery("DELETE FROM app.nopk WHERE a = 1")
        try sql.simpleQuery("TRUNCATE app.scratch")
        try sql.simpleQuery("BEGIN; INSERT INTO app.tags VALUES ('rolled-back', 1); ROLLBACK")
        try sql.simpleQuery(
            """
            BEGIN;
            INSERT INTO app.tags VALUES ('kept', 1);
            SAVEPOINT s;
            INSERT INTO app.tags VALUES ('undone', 1);
            UPDATE app.accounts SET balance = 0 WHERE id = 3;
            ROLLBACK TO SAVEPOINT s;
            UPDATE app.tags SET n = 5 WHERE name = 'kept';
            COMMIT;
            """
        )
        Thread.sleep(forTimeInterval: 2.2)  // the next changes fall into a later window
        try sql.simpleQuery("UPDATE app.accounts SET id = 100 WHERE id = 1")  // the key changes
        try sql.simpleQuery("UPDATE app.pairs SET b = 'c' WHERE a = 1 AND b = 'b'")
        try sql.simpleQuery("DELETE FROM app.accounts WHERE id = 2")
        try sql.simpleQuery("INSERT INTO app.tags VALUES ('green', 1); DELETE FROM app.tags WHERE name = 'green'")
        try sql.simpleQuery(
            "INSERT INTO app.accounts VALUES (7, 1), (8, 1); UPDATE app.accounts SET balance = 2 WHERE id IN (7, 8)"
        )

        // Quiet: stream time only moves with data, so no amount of waiting closes the last window.
        let lastChange = try #require(
            try database.scalar("SELECT max(pg_xact_commit_timestamp(xmin))::text FROM audit.log")
        )
        Thread.sleep(forTimeInterval: 4)
        let openAfterQuiet = try database.scalar(
            "SELECT count(*) FROM daybook.windows WHERE status = 'open' AND window_end > $1::timestamptz",
            [lastChange]
        )
        #expect(openAfterQuiet == "1", "the last window must wait for a heartbeat")

        let listener = try PostgresConnection(ConnectionString(database.connectionString))
        try listener.simpleQuery("LISTEN daybook_window_closed")
        try database.heartbeatUntilEveryWindowCloses("heartbeats close every window", service: service)
        let lastClosedBy = try database.scalar(
            "SELECT closed_by FROM daybook.windows ORDER BY window_start DESC LIMIT 1"
        )
        #expect(lastClosedBy == "heartbeat")
        var notifications: [String] = []
        while let notification = listener.nextNotification() {
            #expect(notification.channel == "daybook_window_closed")
            notifications.append(notification.payload)
        }
        #expect(notifications.count >= 1)
        #expect(notifications.last?.contains("\"closed_by\" : \"heartbeat\"") == true, "\(notifications)")
        #expect(!service.stderr.contains("daybook-test-password"), "the log must not show the password")

        #expect(try IndependentCount.tableMismatches(sql, windowSeconds: 2) == [])
        #expect(try IndependentCount.keyMismatches(sql, windowSeconds: 2) == [])
        #expect(try IndependentCount.changeCount(sql) > 30)
        let late = try database.scalar("SELECT count(*) FROM daybook.late_changes")
        #expect(late == "0")

        // The JSON report carries the same facts, one object per line.
        let report = try DaybookProcess.run(
            ["report", "--slot", database.name, "--format", "json"],
            environment: environment
        )
        #expect(report.status == 0, "\(report.stderr)")
        let lines = report.stdout.split(separator: "\n")
        let closedRows = try database.scalar(
            "SELECT count(*) FROM daybook.table_windows JOIN daybook.windows USING (slot_name, window_start) WHERE status = 'closed'"
        )
        #expect(String(lines.count) == closedRows)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            for field in [
                "window_start", "window_end", "table", "inserts", "updates", "deletes", "truncates",
                "transactions", "keys", "first_change_at", "last_change_at", "late",
            ] {
                #expect(object[field] != nil, "report line lacks \(field): \(line)")
            }
        }
        let keys = try DaybookProcess.run(
            ["report", "--slot", database.name, "--format", "json", "--keys"],
            environment: environment
        )
        let accountKeys = keys.stdout.split(separator: "\n").filter { $0.contains("\"app.accounts\"") }
        #expect(
            accountKeys.contains {
                $0.contains("{\"id\":\"1\"}") && $0.contains("\"ops\":\"D\"") && $0.contains("\"net\":\"deleted\"")
            }
        )
        #expect(accountKeys.contains { $0.contains("{\"id\":\"100\"}") && $0.contains("\"ops\":\"I\"") })
        #expect(
            accountKeys.contains {
                $0.contains("{\"id\":\"7\"}") && $0.contains("\"ops\":\"IU\"") && $0.contains("\"net\":\"created\"")
            }
        )
        let truncates = try database.scalar(
            "SELECT sum(truncates) FROM daybook.table_windows WHERE table_name = 'app.scratch'"
        )
        #expect(truncates == "1")
        #expect(service.process.isRunning, "daybook run stopped early: \(service.stderr)")
    }
}
