import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// The nightly summary: readable formats, the most-changed keys, and a clear note when the
/// asked-for day is not final yet.
@Suite(.serialized)
struct NightlyReportTests {
    @Test func reportFormatsTopKeysAndNotClosedNotice() throws {
        let database = try TestDatabase("nightly")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        defer { _ = service.stop() }
        try database.execute(
            """
            INSERT INTO app.accounts VALUES (1, 0), (2, 0), (3, 0);
            UPDATE app.accounts SET balance = 1 WHERE id = 2;
            UPDATE app.accounts SET balance = 2 WHERE id = 2;
            UPDATE app.accounts SET balance = 1 WHERE id = 3;
            """
        )
        try database.heartbeatUntilEveryWindowCloses("the window closes", service: service)
        let slot = ["--slot", database.name]

        let today = try DaybookProcess.run(["report", "--date", "today"] + slot, environment: environment)
        #expect(today.status == 0)
        #expect(today.stdout.contains("app.accounts"))
        #expect(today.stdout.contains("note: the day "), "\(today.stdout)")
        // The note is wrapped at 100 columns, its lines indented under its first.
        let note = today.stdout.replacingOccurrences(of: "\n      ", with: " ")
        #expect(note.contains("is not closed yet: it closes when stream time reaches"), "\(today.stdout)")
        #expect(note.contains("the last heartbeat reached the stream"))
        #expect(today.stdout.split(separator: "\n").allSatisfy { $0.count <= 100 }, "\(today.stdout)")

        let json = try DaybookProcess.run(
            ["report", "--date", "today", "--format", "json"] + slot,
            environment: environment
        )
        #expect(json.stderr.contains("daybook: note: the day"), "notes go to stderr for json")
        #expect(json.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix("{") })

        let closedRange = try DaybookProcess.run(
            [
                "report", "--from", "-infinity", "--to",
                try #require(try database.scalar("SELECT max(window_end)::text FROM daybook.windows")),
            ]
                + slot,
            environment: environment
        )
        #expect(!closedRange.stdout.contains("note:"), "a closed range needs no note: \(closedRange.stdout)")

        let top = try DaybookProcess.run(["report", "--top", "1", "--format", "csv"] + slot, environment: environment)
        let rows = top.stdout.split(separator: "\n")
        #expect(rows.first == "window_start,window_end,table,key,ops,first_change_at,last_change_at,net")
        #expect(rows.count == 2, "one key per table and window: \(top.stdout)")
        #expect(rows.last?.contains("\"{\"\"id\"\": \"\"2\"\"}\",IUU,") == true, "\(top.stdout)")

        let markdown = try DaybookProcess.run(["report", "--format", "markdown"] + slot, environment: environment)
        #expect(markdown.stdout.hasPrefix("| window_start | window_end | table | inserts |"))
        #expect(markdown.stdout.contains("| --- | --- | --- | ---: |"))

        let badDate = try DaybookProcess.run(["report", "--date", "someday"] + slot, environment: environment)
        #expect(badDate.status == 64)
        #expect(badDate.stderr.contains("cannot read 'someday' as a date"))
    }
}
