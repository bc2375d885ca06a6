import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// Quiet databases: heartbeats of every kind close what is due, and nothing else does.
@Suite(.serialized)
struct QuietDatabaseTests {
    /// The service injects its own heartbeats: each window closes soon after end + grace.
    @Test(arguments: ["table", "message"])
    func serviceHeartbeatsCloseEveryWindow(via method: String) throws {
        let database = try TestDatabase("svchb")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let service = try DaybookProcess(
            Workload.runArguments(database, extra: ["--heartbeat-every", "500ms", "--heartbeat-via", method]),
            environment: environment
        )
        defer { _ = service.stop() }
        var random = SeededRandom(seed: 7)
        for _ in 0..<3 {
            for _ in 0..<10 { try Workload.randomTransaction(database.connection, random: &random) }
            Thread.sleep(forTimeInterval: 1)
        }
        try waitUntil("the service's own heartbeats close every window", timeout: .seconds(30), log: service) {
            try IndependentCount.unclosedWindows(database.connection, windowSeconds: 2) == 0
        }
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [])
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 2) == [])
        #expect(
            try database.scalar("SELECT closed_by FROM daybook.windows ORDER BY window_start DESC LIMIT 1")
                == "heartbeat"
        )
        // Closing waits for nothing but the next heartbeat: the heartbeat that closed each
        // window committed within about one interval (500ms) of the window's close time. Twice
        // the interval leaves room for a loaded machine's timer jitter.
        let lateness = try #require(
            try database.scalar(
                """
                SELECT extract(epoch FROM max(close_stream_time - closes_at)) FROM daybook.windows
                 WHERE closed_by = 'heartbeat'
                """
            ).flatMap(Double.init)
        )
        print("service heartbeats via \(method): the closing heartbeat came \(lateness)s after the close time at most")
        #expect(lateness <= 1.0, "a heartbeat-closed window waited \(lateness)s of stream time past its close time")
        #expect(
            try database.scalar("SELECT count(*) FROM daybook.table_windows WHERE table_name LIKE 'daybook.%'") == "0"
        )
        #expect(try database.scalar("SELECT last_heartbeat_at IS NOT NULL FROM daybook.checkpoint") == "t")
    }

    /// `daybook heartbeat --via message` closes the last window like the table update does.
    @Test func messageHeartbeatFromTheCommandLine() throws {
        let database = try TestDatabase("msghb")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        defer { _ = service.stop() }
        try database.execute("INSERT INTO app.accounts VALUES (1, 1)")
        Thread.sleep(forTimeInterval: 3.1)
        #expect(try database.scalar("SELECT count(*) FROM daybook.windows WHERE status = 'open'") == "1")
        let beat = try DaybookProcess.run(["heartbeat", "--via", "message"], environment: environment)
        #expect(beat.status == 0, "\(beat.stderr)")
        #expect(beat.stdout.contains("message at LSN"))
        try waitUntil("the message heartbeat closes the window", timeout: .seconds(20), log: service) {
            try database.scalar("SELECT closed_by FROM daybook.windows WHERE status = 'closed'") == "heartbeat"
        }
        #expect(try database.scalar("SELECT beats FROM daybook.heartbeat") == "0", "no table churn")
    }

    /// Heartbeats that could never arrive are refused with the fix.
    @Test func heartbeatThatCannotArriveSaysWhatToRun() throws {
        let database = try TestDatabase("hbbad")
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let noTable = try DaybookProcess.run(["heartbeat"], environment: environment)
        #expect(noTable.status == 4)
        #expect(noTable.stderr.contains("run `daybook setup` first"), "\(noTable.stderr)")

        try Workload.prepare(database)
        try database.execute("ALTER PUBLICATION daybook DROP TABLE daybook.heartbeat")
        let unpublished = try DaybookProcess.run(["heartbeat"], environment: environment)
        #expect(unpublished.status == 4)
        #expect(unpublished.stderr.contains("daybook.heartbeat is not in publication daybook"), "\(unpublished.stderr)")
        #expect(try database.scalar("SELECT beats FROM daybook.heartbeat") == "0", "nothing written")
        let status = try DaybookProcess.run(["status", "--slot", database.name], environment: environment)
        #expect(status.stdout.contains("warning: daybook.heartbeat is not in publication daybook"), "\(status.stdout)")

        let setup = try DaybookProcess.run(
            ["setup", "--slot", database.name, "--schemas", "app"],
            environment: environment
        )
        #expect(setup.stdout.contains("added daybook.heartbeat to publication daybook"), "\(setup.stdout)")
        #expect(try DaybookProcess.run(["heartbeat"], environment: environment).status == 0)
    }

    /// `status` tells heartbeats that stopped being written (cron) from heartbeats that are
    /// written but no longer read (the service).
    @Test func statusTellsStoppedHeartbeatsFromAStoppedService() throws {
        let database = try TestDatabase("hbstatus")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        #expect(try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment).status == 0)
        try waitUntil("the heartbeat is checkpointed", log: service) {
            try database.scalar("SELECT last_heartbeat_at IS NOT NULL FROM daybook.checkpoint") == "t"
        }
        service.stop()
        Thread.sleep(forTimeInterval: 2.5)
        let status = ["status", "--slot", database.name, "--heartbeat-interval", "1s"]
        let quiet = try DaybookProcess.run(status, environment: environment)
        #expect(quiet.stdout.contains("warning: no heartbeat has reached the stream for"), "\(quiet.stdout)")
        #expect(quiet.stdout.contains("check cron"))
        #expect(try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment).status == 0)
        let unread = try DaybookProcess.run(status, environment: environment)
        #expect(
            unread.stdout.contains("heartbeats are being written but none has reached the stream"),
            "\(unread.stdout)"
        )
        #expect(unread.stdout.contains("is `daybook run` running"))
    }

    /// Nightly batch use without a resident service: heartbeat, catch up, report.
    @Test func catchUpRunAfterChangesWhileNoServiceRan() throws {
        let database = try TestDatabase("catchup")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        var random = SeededRandom(seed: 11)
        for _ in 0..<4 {
            for _ in 0..<15 { try Workload.randomTransaction(database.connection, random: &random) }
            Thread.sleep(forTimeInterval: 1)
        }
        Thread.sleep(forTimeInterval: 3.1)
        #expect(try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment).status == 0)
        let run = try DaybookProcess.run(
            ["run", "--slot", database.name, "--window", "2s", "--grace", "1s", "--until-caught-up"],
            environment: environment
        )
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try IndependentCount.unclosedWindows(database.connection, windowSeconds: 2) == 0)
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [])
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 2) == [])
        let report = try DaybookProcess.run(
            ["report", "--slot", database.name, "--date", "today"],
            environment: environment
        )
        #expect(report.status == 0)
        #expect(report.stdout.contains("app.accounts"), "\(report.stdout)")
        // A second catch-up with nothing new changes nothing; without flags it continues the
        // slot's stored window settings (2s, 1s grace), as a nightly cron line would.
        let again = try DaybookProcess.run(
            ["run", "--slot", database.name, "--until-caught-up"],
            environment: environment
        )
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("daybook.windows=2s in UTC"), "\(again.stderr)")
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [])
    }
}
