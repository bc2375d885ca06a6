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
    private func setServerClock(_ iso: String, file: String) throws {
        let target = try #require(ISO8601DateFormatter().date(from: iso))
        let offset = Int(target.timeIntervalSinceNow.rounded())
        try Data((offset >= 0 ? "+\(offset)\n" : "\(offset)\n").utf8).write(to: URL(fileURLWithPath: file))
    }

    @Test(arguments: ["64", "0"])
    func keysWrittenAcrossCheckpointsAndARestartCloseAsOneRowEach(keyMemory: String) throws {
        let environment = ProcessInfo.processInfo.environment
        guard let server = environment["DAYBOOK_TEST_DATABASE_FAKETIME"], let clock = environment["DAYBOOK_TEST_FAKETIME_FILE"]
        else {
            Issue.record("DAYBOOK_TEST_DATABASE_FAKETIME is not set: run the tests with scripts/test")
            return
        }
        defer { try? setServerClock(ISO8601DateFormatter().string(from: Date()), file: clock) }
        try setServerClock("2026-05-05T10:00:01Z", file: clock)
        let database = try TestDatabase("merge_\(keyMemory)", server: server)
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

        try setServerClock("2026-05-05T11:00:05Z", file: clock)
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
            try database.scalar("SELECT ops FROM daybook.key_windows WHERE table_name = 'app.accounts' AND key = '{\"id\": \"5\"}'")
                == "IUUUUD")
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 3600) == [])
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 3600) == [])
        #expect(service.stderr.contains("daybook.keys=2005"), "the close logs the window's keys")
    }
}
