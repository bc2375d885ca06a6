import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// Operational faults: each is one line with the fix, a non-zero exit, and nothing lost.
@Suite(.serialized)
struct OperationalFaultTests {
    /// The one error line among the log lines.
    private func firstLine(_ text: String) -> String {
        text.split(separator: "\n").first { $0.hasPrefix("daybook: error:") }.map(String.init) ?? ""
    }

    @Test func aSlotInUseByAnotherProcessIsRefused() throws {
        let database = try TestDatabase("inuse")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let first = try DaybookProcess(Workload.runArguments(database), environment: environment)
        defer { first.stop() }
        try waitUntil("the first run streams", log: first) {
            try database.scalar("SELECT active FROM pg_replication_slots WHERE slot_name = $1", [database.name]) == "t"
        }
        let second = try DaybookProcess.run(Workload.runArguments(database), environment: environment)
        #expect(second.status == 4)
        #expect(firstLine(second.stderr).contains("is active for PID"), "\(second.stderr)")
        #expect(firstLine(second.stderr).contains("stop it first"))
        #expect(first.isRunning, "the first run goes on")
    }

    /// Two writers of one slot's results into one sink are refused before either touches
    /// them, whichever way the second one came (here: the sink lock is held, the slot free).
    @Test func aSecondWriterOfTheSameSlotIntoTheSinkIsRefused() throws {
        let database = try TestDatabase("twowriters")
        try Workload.prepare(database)
        let holder = try PostgresConnection(ConnectionString(database.connectionString))
        try holder.query("SELECT pg_advisory_lock(hashtext('daybook.sink'), hashtext($1))", [database.name])
        let second = try DaybookProcess.run(
            Workload.runArguments(database),
            environment: ["DAYBOOK_DATABASE": database.connectionString]
        )
        #expect(second.status == 4)
        #expect(
            firstLine(second.stderr).contains("another daybook process is writing slot \(database.name)"),
            "\(second.stderr)"
        )
        #expect(try database.scalar("SELECT count(*) FROM daybook.checkpoint") == "0", "nothing written")
    }

    @Test func anInvalidatedSlotSaysWhatAResetLoses() throws {
        let database = try TestDatabase("lost")
        try Workload.prepare(database)
        try database.execute("CREATE TABLE app.filler (id bigint, pad text)")
        try database.admin.simpleQuery("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'")
        try database.admin.simpleQuery("SELECT pg_reload_conf()")
        defer {
            _ = try? database.admin.simpleQuery("ALTER SYSTEM RESET max_slot_wal_keep_size")
            _ = try? database.admin.simpleQuery("SELECT pg_reload_conf()")
        }
        try waitUntil("the slot is invalidated", timeout: .seconds(60)) {
            try database.execute(
                "INSERT INTO app.filler SELECT g, repeat('x', 200) FROM generate_series(1, 100000) g; SELECT pg_switch_wal(); CHECKPOINT"
            )
            return try database.scalar(
                "SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1",
                [database.name]
            )
                == "lost"
        }
        let run = try DaybookProcess.run(
            Workload.runArguments(database),
            environment: ["DAYBOOK_DATABASE": database.connectionString]
        )
        #expect(run.status == 4)
        #expect(firstLine(run.stderr).contains("was invalidated"), "\(run.stderr)")
        #expect(firstLine(run.stderr).contains("changes since the last checkpoint are gone"))
        let status = try DaybookProcess.run(
            ["status", "--slot", database.name],
            environment: ["DAYBOOK_DATABASE": database.connectionString]
        )
        #expect(status.stdout.contains("warning: slot \(database.name) was invalidated"), "\(status.stdout)")
    }

    @Test func aSinkFromANewerDaybookIsLeftAlone() throws {
        let database = try TestDatabase("newer")
        try Workload.prepare(database)
        try database.execute("INSERT INTO daybook.schema_migrations (version, name) VALUES (99, '099_future.sql')")
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        for arguments in [Workload.runArguments(database), ["report"], ["status"], ["migrate"]] {
            let result = try DaybookProcess.run(arguments, environment: environment)
            #expect(result.status == 4, "\(arguments): \(result.stderr)")
            #expect(firstLine(result.stderr).contains("newer than this daybook"), "\(result.stderr)")
        }
        #expect(try database.scalar("SELECT count(*) FROM daybook.checkpoint") == "0", "nothing written")
    }

    @Test func aRoleWithoutReplicationIsToldWhatItLacks() throws {
        let database = try TestDatabase("norepl")
        try Workload.prepare(database)
        let role = "norepl_\(database.name.suffix(6))"
        try database.admin.simpleQuery("CREATE ROLE \(role) LOGIN PASSWORD 'norepl-secret'")
        defer { _ = try? database.admin.simpleQuery("DROP ROLE IF EXISTS \(role)") }
        let connection = database.connectionString
            .replacingOccurrences(of: "user=postgres", with: "user=\(role)")
            .replacingOccurrences(of: "password=daybook-test-password", with: "password=norepl-secret")
        let run = try DaybookProcess.run(
            Workload.runArguments(database),
            environment: ["DAYBOOK_DATABASE": connection, "DAYBOOK_SINK": database.connectionString]
        )
        #expect(run.status == 4, "\(run.stderr)")
        #expect(firstLine(run.stderr).contains("give it the REPLICATION attribute"), "\(run.stderr)")
        #expect(!run.stderr.contains("norepl-secret"))
    }
}

/// TLS is libpq's: sslmode in the connection string is honoured as psql honours it.
@Suite(.serialized)
struct TLSTests {
    @Test func aServerThatRequiresTLSIsReachedWithSSLModeRequire() throws {
        let server = try TestDatabase.serverConnectionString()
        let admin = try PostgresConnection(ConnectionString(server))
        _ = try? admin.simpleQuery("DROP DATABASE IF EXISTS tls_required WITH (FORCE)")
        try admin.simpleQuery("CREATE DATABASE tls_required")
        defer { _ = try? admin.simpleQuery("DROP DATABASE IF EXISTS tls_required WITH (FORCE)") }
        let plain = server + " dbname=tls_required sslmode=disable"
        let refused = try DaybookProcess.run(["migrate"], environment: ["DAYBOOK_DATABASE": plain])
        #expect(refused.status == 5)
        #expect(refused.stderr.contains("accepts only TLS connections"), "\(refused.stderr)")
        #expect(refused.stderr.contains("add sslmode=require"))
        #expect(!refused.stderr.contains("daybook-test-password"))
        let encrypted = try DaybookProcess.run(
            ["migrate"],
            environment: ["DAYBOOK_DATABASE": server + " dbname=tls_required sslmode=require"]
        )
        #expect(encrypted.status == 0, "\(encrypted.stderr)")
    }
}
