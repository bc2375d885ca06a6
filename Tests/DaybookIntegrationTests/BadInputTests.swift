import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// Every operator mistake gets one line that says what to do, a non-zero exit, and nothing
/// written.
@Suite(.serialized)
struct BadInputTests {
    private func errorLine(_ result: (status: Int32, stdout: String, stderr: String)) -> String {
        result.stderr.split(separator: "\n").first.map(String.init) ?? ""
    }

    @Test func missingSlotAndPublicationSayWhatToRun() throws {
        let database = try TestDatabase("badslot")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let noSlot = try DaybookProcess.run(["run", "--slot", "nosuch", "--window", "2s"], environment: environment)
        #expect(noSlot.status == 4)
        #expect(errorLine(noSlot).contains("replication slot nosuch does not exist: run `daybook setup --slot nosuch`"))
        let noPublication = try DaybookProcess.run(
            ["run", "--slot", database.name, "--publication", "nopub", "--window", "2s"],
            environment: environment
        )
        #expect(noPublication.status == 4)
        #expect(errorLine(noPublication).contains("publication nopub does not exist"))
        #expect(try database.scalar("SELECT count(*) FROM daybook.checkpoint") == "0")
    }

    @Test func aDifferentWindowThanTheSlotWasSummarisedWithIsRefused() throws {
        let database = try TestDatabase("rewindow")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        try database.execute("INSERT INTO app.accounts VALUES (1, 1)")
        let first = try DaybookProcess.run(
            ["run", "--slot", database.name, "--window", "2s", "--until-caught-up"],
            environment: environment
        )
        #expect(first.status == 0, "\(first.stderr)")
        let second = try DaybookProcess.run(
            ["run", "--slot", database.name, "--window", "1d", "--until-caught-up"],
            environment: environment
        )
        #expect(second.status == 2)
        #expect(errorLine(second).contains("keep --window 2s, or use a new slot"), "\(second.stderr)")
        #expect(try database.scalar("SELECT window_length FROM daybook.checkpoint") == "2s")
    }

    @Test func wrongPasswordIsReportedWithoutThePassword() throws {
        let database = try TestDatabase("badpw")
        let wrong = database.connectionString.replacingOccurrences(
            of: "password=daybook-test-password",
            with: "password=Sw0rdfish-wrong"
        )
        #expect(wrong != database.connectionString)
        for arguments in [["run"], ["migrate"], ["heartbeat"], ["status"], ["report"]] {
            let result = try DaybookProcess.run(arguments, environment: ["DAYBOOK_DATABASE": wrong])
            #expect(result.status == 5, "\(arguments): \(result.stderr)")
            #expect(errorLine(result).contains("password authentication failed"), "\(result.stderr)")
            #expect(!result.stderr.contains("Sw0rdfish") && !result.stdout.contains("Sw0rdfish"))
        }
    }

    @Test func unmigratedSinkSaysRunMigrate() throws {
        let database = try TestDatabase("nomigrate")
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        for arguments in [["run", "--slot", database.name], ["report"], ["status"]] {
            let result = try DaybookProcess.run(arguments, environment: environment)
            #expect(result.status == 4, "\(arguments): \(result.stderr)")
            #expect(errorLine(result).contains("run `daybook migrate` first"), "\(result.stderr)")
        }
        #expect(try database.scalar("SELECT to_regclass('daybook.checkpoint') IS NULL") == "t")
        let heartbeat = try DaybookProcess.run(["heartbeat"], environment: environment)
        #expect(heartbeat.status == 4)
        #expect(errorLine(heartbeat).contains("run `daybook setup` first"))
    }

    @Test func badArgumentsAreRefusedBeforeConnecting() throws {
        let environment = ["DAYBOOK_DATABASE": "host=127.0.0.1 port=1 dbname=none connect_timeout=1"]
        let fromEnvironment = try DaybookProcess.run(
            ["status"],
            environment: environment.merging(["DAYBOOK_SLOT": "Bad-Slot"]) { $1 }
        )
        #expect(fromEnvironment.status == 64)
        #expect(fromEnvironment.stderr.contains("slot 'Bad-Slot' is not a valid slot name"))
        let cases: [([String], String)] = [
            (["run", "--time-zone", "Mars/Olympus_Mons"], "is not an IANA time zone"),
            (["run", "--window", "5x"], "is not a duration"),
            (["run", "--grace", "soon"], "is not a duration"),
            (["run", "--window", "7s"], "does not tile a day"),
            (["run", "--slot", "Bad-Slot"], "is not a valid slot name"),
            (["run", "--database", "host='unterminated"], "is not a valid connection string"),
            (["run", "--until-lsn", "zz"], "is not a WAL position"),
            (["run", "--batch-size", "0"], "--batch-size must be from 1 to 10000000"),
        ]
        for (arguments, message) in cases {
            let result = try DaybookProcess.run(arguments, environment: environment)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }

    @Test func serverWithoutLogicalDecodingSaysHowToFixIt() throws {
        guard let server = ProcessInfo.processInfo.environment["DAYBOOK_TEST_DATABASE_NOT_LOGICAL"] else {
            Issue.record("DAYBOOK_TEST_DATABASE_NOT_LOGICAL is not set: run the tests with scripts/test")
            return
        }
        let environment = ["DAYBOOK_DATABASE": server]
        let setup = try DaybookProcess.run(["setup"], environment: environment)
        #expect(setup.status == 4)
        #expect(errorLine(setup).contains("set wal_level = logical"))
        let migrate = try DaybookProcess.run(["migrate"], environment: environment)
        #expect(migrate.status == 0)
        let heartbeat = try DaybookProcess.run(["heartbeat"], environment: environment)
        #expect(heartbeat.status == 4)
        #expect(
            errorLine(heartbeat).contains("so no heartbeat can reach Daybook: set wal_level = logical"),
            "\(heartbeat.stderr)"
        )
        let run = try DaybookProcess.run(["run"], environment: environment)
        #expect(run.status == 4)
        #expect(errorLine(run).contains("wal_level"), "\(run.stderr)")
        let admin = try PostgresConnection(ConnectionString(server))
        #expect(try admin.query("SELECT count(*) FROM pg_publication").scalar == "0")
        _ = try admin.simpleQuery("DROP SCHEMA daybook CASCADE")
    }
}
