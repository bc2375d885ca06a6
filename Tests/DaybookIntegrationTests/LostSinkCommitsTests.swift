import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// A sink that went back in time (restored from a backup, failed over to a standby that had not
/// replayed its last commits) while the slot had confirmed what it lost: `daybook run` refuses
/// with one line and exit 4, and writes nothing, instead of reporting a day with changes missing.
@Suite(.serialized)
struct LostSinkCommitsTests {
    @Test func aSinkRestoredFromAnEarlierCopyIsRefused() throws {
        let source = try TestDatabase("gap_source")
        let server = try TestDatabase.serverConnectionString()
        let sinkName = source.name + "_sink", staleName = source.name + "_stale"
        try source.admin.simpleQuery("CREATE DATABASE \(sinkName)")
        source.onDrop { admin in
            for name in [sinkName, staleName] { _ = try? admin.simpleQuery("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        }
        let sink = server + " dbname=\(sinkName)", stale = server + " dbname=\(staleName)"
        let environment = ["DAYBOOK_DATABASE": source.connectionString, "DAYBOOK_SINK": sink]
        try source.execute("CREATE SCHEMA app; CREATE TABLE app.items (id integer PRIMARY KEY, v integer)")
        #expect(try DaybookProcess.run(["migrate"], environment: environment).status == 0)
        let setup = try DaybookProcess.run(["setup", "--slot", source.name, "--tables", "app.items"], environment: environment)
        #expect(setup.status == 0, "\(setup.stderr)")
        let arguments = ["run", "--slot", source.name, "--window", "1h", "--grace", "1s", "--checkpoint-every", "100ms"]
        func inserts(in connectionString: String) throws -> Int {
            try PostgresConnection(ConnectionString(connectionString)).query(
                "SELECT coalesce(sum(inserts), 0) FROM daybook.table_windows WHERE table_name = 'app.items'"
            ).scalar.flatMap { Int($0) } ?? -1
        }
        func confirmed() throws -> String? {
            try source.scalar("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", [source.name])
        }

        // 100 inserts reach the sink; the sink is copied (the backup), with nobody connected.
        var service = try DaybookProcess(arguments, environment: environment)
        try source.execute("INSERT INTO app.items SELECT g, g FROM generate_series(1, 100) g")
        try waitUntil("the first 100 inserts are in the sink", log: service) { try inserts(in: sink) == 100 }
        #expect(service.stop() == 0)
        try source.admin.simpleQuery("CREATE DATABASE \(staleName) TEMPLATE \(sinkName)")
        let backupCheckpoint = try PostgresConnection(ConnectionString(stale)).query(
            "SELECT lsn::text || ' ' || updated_at::text FROM daybook.checkpoint").scalar

        // 100 more reach the sink and are confirmed to the slot; an idle stretch after them is
        // written to the sink before the slot is confirmed past them.
        service = try DaybookProcess(arguments, environment: environment)
        try source.execute("INSERT INTO app.items SELECT g, g FROM generate_series(101, 200) g")
        try waitUntil("the next 100 inserts are in the sink", log: service) { try inserts(in: sink) == 200 }
        try source.execute("CREATE TABLE app.unpublished (id integer); INSERT INTO app.unpublished SELECT generate_series(1, 1000)")
        let walEnd = try #require(try source.scalar("SELECT pg_current_wal_insert_lsn()::text"))
        try waitUntil("the slot is confirmed past the idle stretch", timeout: .seconds(90), log: service) {
            try source.scalar("SELECT $1::pg_lsn <= confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $2", [walEnd, source.name])
                == "t"
        }
        #expect(service.stop() == 0)
        let sinkLSN = try PostgresConnection(ConnectionString(sink)).query("SELECT lsn::text FROM daybook.checkpoint").scalar
        #expect(try source.scalar("SELECT $1::pg_lsn >= confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $2",
                                  [sinkLSN, source.name]) == "t", "the slot is never confirmed past the sink's checkpoint")

        // The good sink goes on (no false alarm after idle stretches and restarts).
        let again = try DaybookProcess.run(arguments + ["--until-caught-up"], environment: environment)
        #expect(again.status == 0, "\(again.stderr)")

        // The stale copy is refused: one line, exit 4, nothing written.
        let slotBefore = try confirmed()
        let refused = try DaybookProcess.run(arguments + ["--sink", stale], environment: environment)
        #expect(refused.status == 4, "\(refused.stderr)")
        let line = refused.stderr.split(separator: "\n").last { $0.contains("lost commits") }.map(String.init) ?? refused.stderr
        #expect(line.contains("the sink's checkpoint for slot \(source.name) is at"), "\(line)")
        #expect(line.contains("but the slot has confirmed \(slotBefore ?? "?")"), "\(line)")
        #expect(line.contains("cannot be read again"), "\(line)")
        let staleConnection = try PostgresConnection(ConnectionString(stale))
        #expect(try staleConnection.query("SELECT lsn::text || ' ' || updated_at::text FROM daybook.checkpoint").scalar == backupCheckpoint)
        #expect(try inserts(in: stale) == 100, "nothing was written to the stale sink")
        #expect(try confirmed() == slotBefore, "the slot did not move")
        // So does a catch-up run, which reads the backlog in backlog mode.
        let backlog = try DaybookProcess.run(arguments + ["--sink", stale, "--until-caught-up"], environment: environment)
        #expect(backlog.status == 4, "\(backlog.stderr)")
    }
}
