import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// A restart needs no further fake update: what is due closes by itself.
@Suite(.serialized)
struct RestartTests {
    /// The heartbeat that makes the window due arrives while the service is down; on start it
    /// is replayed from the slot and closes the window, with no other write.
    @Test func heartbeatWhileDownClosesTheWindowOnStart() throws {
        let database = try TestDatabase("restart")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        var service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        try database.execute("INSERT INTO app.accounts VALUES (1, 1), (2, 2)")
        try waitUntil("the change is checkpointed", log: service) {
            try database.scalar("SELECT count(*) FROM daybook.windows WHERE status = 'open'") == "1"
        }
        service.killHard()
        Thread.sleep(forTimeInterval: 3.1)  // past window end + grace, in wall time
        _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment)
        #expect(try database.scalar("SELECT count(*) FROM daybook.windows WHERE status = 'open'") == "1")

        service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        try waitUntil("the window closes with no further writes", log: service) {
            try database.scalar("SELECT count(*) FROM daybook.windows WHERE status = 'closed'") == "1"
        }
        #expect(try database.scalar("SELECT closed_by FROM daybook.windows") == "heartbeat")
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [])
        _ = service.stop()
    }

    /// Stream time persisted with the checkpoint closes a window that is due at start-up,
    /// before any data arrives (here it became due because the grace period was shortened).
    @Test func persistedStreamTimeClosesDueWindowsAtStartup() throws {
        let database = try TestDatabase("startup")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let longGrace = [
            "run", "--slot", database.name, "--window", "2s", "--grace", "1h", "--checkpoint-every", "100ms",
        ]
        var service = try DaybookProcess(longGrace, environment: environment)
        try database.execute("INSERT INTO app.accounts VALUES (1, 1)")
        Thread.sleep(forTimeInterval: 2.1)
        _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment)
        try waitUntil("the heartbeat's stream time is checkpointed", log: service) {
            try database.scalar(
                """
                SELECT count(*) FROM daybook.checkpoint c JOIN daybook.windows w USING (slot_name)
                 WHERE c.stream_time >= w.window_end AND w.status = 'open'
                """
            ) == "1"
        }
        #expect(service.stop() == 0, "graceful stop: \(service.stderr.suffix(2000))")

        service = try DaybookProcess(
            ["run", "--slot", database.name, "--window", "2s", "--grace", "0s"],
            environment: environment
        )
        // Closed, not only closing: the count compares closed windows, and the finisher makes
        // a window's results final after its closing is recorded.
        try waitUntil("the due window closes at start-up", log: service) {
            try database.scalar("SELECT closed_by FROM daybook.windows WHERE status = 'closed'") == "startup"
        }
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [])
        Thread.sleep(forTimeInterval: 0.5)
        #expect(
            service.process.isRunning,
            "the service keeps running after closing at start-up: \(service.stderr.suffix(2000))"
        )
        // A longer grace again must not reopen the closed window: a change for it is late.
        #expect(service.stop() == 0)
        service = try DaybookProcess(longGrace, environment: environment)
        let windowStart = try #require(try database.scalar("SELECT window_start::text FROM daybook.windows"))
        try waitUntil("the service streams again", log: service) {
            try database.scalar(
                "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'daybook' AND state = 'streaming'"
            ) == "1"
        }
        #expect(
            try database.scalar(
                "SELECT status FROM daybook.windows WHERE window_start = $1::timestamptz",
                [windowStart]
            ) == "closed"
        )
        _ = service.stop()
    }
}
