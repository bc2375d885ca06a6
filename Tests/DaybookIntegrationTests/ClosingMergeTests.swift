import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// Closing a window merges only the keys written by more than one checkpoint, and the written
/// keys are remembered across a restart: a key written before a SIGKILL and again after it
/// still ends as one row. With `--key-memory 0` the memory is full after a few hundred keys
/// and every later row is merged: the same results, by the slow path.
///
/// A server on a fake clock (libfaketime, started by scripts/test) holds one hour open for as
/// long as the test needs, then jumps past its end.
@Suite(.serialized)
struct ClosingMergeTests {
    @Test(arguments: ["64", "0"])
    func keysWrittenAcrossCheckpointsAndARestartCloseAsOneRowEach(keyMemory: String) throws {
        guard let clock = FakeClockServer.fromEnvironment() else { return }
        defer { clock.reset() }
        try clock.set("2026-05-05T10:00:01Z")
        let database = try TestDatabase("merge_\(keyMemory)", server: clock.connectionString)
        let daybook = ["DAYBOOK_DATABASE": database.connectionString]
        try Workload.prepare(source: database.connection, environment: daybook, slot: database.name)
        let arguments = [
            "run", "--slot", database.name, "--window", "1h", "--grace", "2s", "--checkpoint-every", "100ms",
            "--key-memory", keyMemory,
        ]
        var service = try DaybookProcess(arguments, environment: daybook)

        func updateAndWait(_ round: Int, service: DaybookProcess) throws {
            try database.execute("UPDATE app.accounts SET balance = balance + 1 WHERE id % 4 <> \(round % 4)")
            try database.execute("INSERT INTO app.tags VALUES ('round \(round)', \(round))")
            try waitUntil("round \(round) is checkpointed", log: service) {
                try database.scalar("SELECT count(*) FROM daybook.open_key_windows WHERE table_name = 'app.tags'")
                    == String(round + 1)
            }
        }
        try database.execute("INSERT INTO app.accounts SELECT g, 0 FROM generate_series(1, 2000) g")
        for round in 0..<3 { try updateAndWait(round, service: service) }
        service.killHard()
        service = try DaybookProcess(arguments, environment: daybook)
        defer { service.stop() }
        for round in 3..<5 { try updateAndWait(round, service: service) }
        try database.execute("DELETE FROM app.accounts WHERE id <= 100")

        try clock.set("2026-05-05T11:00:05Z")
        #expect(try DaybookProcess.run(["heartbeat", "--quiet"], environment: daybook).status == 0)
        try waitUntil("the hour closes", log: service) {
            try database.scalar("SELECT count(*) FROM daybook.windows WHERE status = 'closed'") == "1"
        }
        let rows = try database.connection.query(
            """
            SELECT count(*), count(DISTINCT (table_name, key)), count(*) FILTER (WHERE repeated)
              FROM daybook.key_changes WHERE window_start = '2026-05-05 10:00:00+00'
            """
        ).rows.first
        #expect(rows == ["2005", "2005", "0"], "one row per key, none left flagged")
        #expect(
            try database.scalar(
                "SELECT ops FROM daybook.key_windows WHERE table_name = 'app.accounts' AND key = '{\"id\": \"5\"}'"
            )
                == "IUUUUD"
        )
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 3600) == [])
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 3600) == [])
        #expect(service.stderr.contains("daybook.keys=2005"), "the close logs the window's keys")
    }

    /// A window the stream closed but whose results were not made final yet (the process
    /// stopped in between) waits in 'closing', hidden from reports, and the next run makes it
    /// final and announces it, once.
    @Test func aWindowLeftClosingIsFinishedByTheNextRun() throws {
        let database = try TestDatabase("closing")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        var service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        try database.execute("INSERT INTO app.accounts VALUES (1, 1), (2, 2)")
        try database.heartbeatUntilEveryWindowCloses("the window closes", service: service)
        #expect(service.stop() == 0)

        // Back to the state between the closing checkpoint and its finishing transaction: the
        // status, an unmerged second row of key 1, no key count yet.
        try database.execute(
            """
            UPDATE daybook.windows SET status = 'closing', closed_at = NULL;
            UPDATE daybook.table_windows SET keys = NULL;
            INSERT INTO daybook.key_changes
            SELECT slot_name, window_start, table_name, key, 'U', last_change_at, last_change_at, lsn, 1, true
              FROM daybook.key_changes WHERE table_name = 'app.accounts' AND key = '{"id":"1"}';
            """
        )
        let report = try DaybookProcess.run(
            ["report", "--slot", database.name, "--format", "json", "--keys"],
            environment: environment
        )
        #expect(!report.stdout.contains("app.accounts"), "a closing window is not in the report yet: \(report.stdout)")
        let status = try DaybookProcess.run(["status", "--slot", database.name], environment: environment)
        #expect(status.stdout.contains("closing: ["), "\(status.stdout)")

        let listener = try PostgresConnection(ConnectionString(database.connectionString))
        try listener.simpleQuery("LISTEN daybook_window_closed")
        service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        defer { service.stop() }
        try waitUntil("the next run finishes the window", log: service) {
            try database.scalar("SELECT count(*) FROM daybook.windows WHERE status = 'closed'") == "1"
        }
        #expect(try database.scalar("SELECT ops FROM daybook.key_windows WHERE key = '{\"id\": \"1\"}'") == "IU")
        #expect(try database.scalar("SELECT keys FROM daybook.table_windows WHERE table_name = 'app.accounts'") == "2")
        var notifications = 0
        let deadline = Date().addingTimeInterval(2)
        while Date() < deadline {
            if listener.nextNotification() != nil { notifications += 1 } else { Thread.sleep(forTimeInterval: 0.05) }
            _ = try? listener.simpleQuery("SELECT 1")
        }
        #expect(notifications == 1, "announced once")
    }
}
