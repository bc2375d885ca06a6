import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// A report stopped by a signal (`timeout`, Ctrl-C) cancels its statement on the sink before
/// it exits, instead of leaving it running there. The statement is made to wait, for as long
/// as the test wants, behind a lock another session holds on the tables it reads.
struct ReportInterruptTests {
    @Test func aReportStoppedBySIGTERMCancelsItsStatementAndSaysSo() throws {
        let database = try TestDatabase("interrupt")
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let migrate = try DaybookProcess.run(["migrate"], environment: environment)
        #expect(migrate.status == 0, "\(migrate.stderr)")
        let holder = try PostgresConnection(ConnectionString(database.connectionString))
        let holderPID = try #require(try holder.query("SELECT pg_backend_pid()").scalar)
        try holder.simpleQuery("BEGIN")
        try holder.simpleQuery("LOCK TABLE daybook.checkpoint, daybook.windows IN ACCESS EXCLUSIVE MODE")
        defer { _ = try? holder.simpleQuery("ROLLBACK") }
        let others = "datname = current_database() AND pid <> pg_backend_pid() AND pid <> \(holderPID)"

        let report = try DaybookProcess(
            ["report", "--date", "today", "--slot", database.name],
            environment: environment
        )
        try waitUntil("the report's statement waits behind the lock") {
            try database.scalar("SELECT count(*) FROM pg_stat_activity WHERE \(others) AND wait_event_type = 'Lock'")
                == "1"
        }
        #expect(report.stop() == 128 + SIGTERM)
        #expect(report.stderr.contains("daybook report interrupted by SIGTERM"), "\(report.stderr)")
        #expect(
            try database.scalar("SELECT count(*) FROM pg_stat_activity WHERE \(others) AND state = 'active'") == "0",
            "the statement ended with the process"
        )
    }
}
