import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// Europe/Berlin's 23-hour and 25-hour days through the whole path: a PostgreSQL whose clock
/// (libfaketime, started by scripts/test) commits at the first and last seconds of each day.
@Suite(.serialized)
struct DaylightSavingTests {
    @Test func berlinDSTDaysAreOneWindowEach() throws {
        guard let clock = FakeClockServer.fromEnvironment() else { return }
        defer { clock.reset() }
        try clock.set("2026-03-28T23:00:05Z")  // 00:00:05 CET, 29 March (23 hours)
        let database = try TestDatabase("dst", server: clock.connectionString)
        try database.execute("CREATE SCHEMA app; CREATE TABLE app.accounts (id integer PRIMARY KEY, balance integer)")
        let daybook = ["DAYBOOK_DATABASE": database.connectionString]
        #expect(try DaybookProcess.run(["migrate"], environment: daybook).status == 0)
        #expect(
            try DaybookProcess.run(["setup", "--slot", database.name, "--schemas", "app"], environment: daybook).status
                == 0
        )
        let service = try DaybookProcess(
            [
                "run", "--slot", database.name, "--window", "1d", "--grace", "2s", "--time-zone", "Europe/Berlin",
                "--checkpoint-every", "200ms",
            ],
            environment: daybook
        )
        defer { _ = service.stop() }

        try database.execute("INSERT INTO app.accounts VALUES (1, 1)")
        try clock.set("2026-03-29T21:59:55Z")  // 23:59:55 CEST, the same day
        try database.execute("INSERT INTO app.accounts VALUES (2, 1)")
        try waitUntil("the spring day's changes are checkpointed", log: service) {
            try database.scalar("SELECT count(*) FROM daybook.open_key_windows") == "2"
        }
        try clock.set("2026-10-24T22:00:05Z")  // 00:00:05 CEST, 25 October (25 hours)
        try database.execute("INSERT INTO app.accounts VALUES (3, 1)")
        try clock.set("2026-10-25T22:59:55Z")  // 23:59:55 CET, the same day
        try database.execute("INSERT INTO app.accounts VALUES (4, 1)")
        try clock.set("2026-10-25T23:00:03Z")  // past the end + 2s of grace
        #expect(try DaybookProcess.run(["heartbeat"], environment: daybook).status == 0)
        try waitUntil("both DST days close", log: service) {
            try database.scalar("SELECT count(*) FROM daybook.windows WHERE status = 'closed'") == "2"
        }

        let windows = try database.connection.query(
            """
            SELECT window_start::text, window_end::text, extract(epoch FROM window_end - window_start)::int / 3600, closed_by
              FROM daybook.windows ORDER BY window_start
            """
        ).rows
        #expect(windows[0] == ["2026-03-28 23:00:00+00", "2026-03-29 22:00:00+00", "23", "data"])
        #expect(windows[1] == ["2026-10-24 22:00:00+00", "2026-10-25 23:00:00+00", "25", "heartbeat"])

        let october = try DaybookProcess.run(
            ["report", "--slot", database.name, "--date", "2026-10-25", "--format", "json"],
            environment: daybook
        )
        #expect(
            october.stdout.contains(
                #""window_start":"2026-10-25T00:00:00+02:00","window_end":"2026-10-26T00:00:00+01:00""#
            )
        )
        #expect(october.stdout.contains(#""inserts":2"#), "\(october.stdout)")
        let march = try DaybookProcess.run(
            ["report", "--slot", database.name, "--date", "2026-03-29", "--format", "json"],
            environment: daybook
        )
        #expect(
            march.stdout.contains(
                #""window_start":"2026-03-29T00:00:00+01:00","window_end":"2026-03-30T00:00:00+02:00""#
            )
        )
        #expect(march.stdout.contains(#""inserts":2"#), "\(march.stdout)")
    }
}
