import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// A restart in every state — window open; window due but not yet closed; window closed —
/// ends with every window closed exactly once (one NOTIFY each) and nothing lost.
@Suite(.serialized)
struct RestartStatesTests {
    @Test func restartInEachStateClosesEachWindowExactlyOnce() throws {
        let database = try TestDatabase("states")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let listener = try PostgresConnection(ConnectionString(database.connectionString))
        try listener.simpleQuery("LISTEN daybook_window_closed")
        let arguments = Workload.runArguments(database)
        var service = try DaybookProcess(arguments, environment: environment)

        // 1. Window open: data checkpointed, then a crash and a restart.
        try database.execute("INSERT INTO app.accounts VALUES (1, 1), (2, 2)")
        try waitUntil("the first window is open in the sink", log: service) {
            try database.scalar("SELECT count(*) FROM daybook.windows WHERE status = 'open'") == "1"
        }
        service.killHard()
        service = try DaybookProcess(arguments, environment: environment)
        try database.execute("UPDATE app.accounts SET balance = 3 WHERE id = 1")
        try waitUntil("the restarted service streams", log: service) {
            try database.scalar("SELECT count(*) FROM daybook.open_key_windows WHERE ops LIKE '%U'") == "1"
        }

        // 2. Due but not closed: the heartbeat that makes it due is written while the service is down.
        service.killHard()
        Thread.sleep(forTimeInterval: 3.2)
        #expect(try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment).status == 0)
        #expect(try database.scalar("SELECT count(*) FROM daybook.windows WHERE status = 'closed'") == "0")
        service = try DaybookProcess(arguments, environment: environment)
        try waitUntil("the due window closes after the restart", log: service) {
            try database.scalar("SELECT count(*) FROM daybook.windows WHERE status = 'open'") == "0"
        }

        // 3. Closed: crash and restart again; more data and heartbeats; nothing closes twice.
        service.killHard()
        service = try DaybookProcess(arguments, environment: environment)
        try database.execute("INSERT INTO app.accounts VALUES (3, 3)")
        try database.heartbeatUntilEveryWindowCloses("the later window closes too", service: service)
        _ = service.stop()

        var closings: [String: Int] = [:]
        while let notification = listener.nextNotification() {
            let payload = try #require(
                try JSONSerialization.jsonObject(with: Data(notification.payload.utf8)) as? [String: Any]
            )
            let start = try #require(payload["window_start"] as? String)
            closings[start, default: 0] += 1
        }
        let windows = Int(try database.scalar("SELECT count(*) FROM daybook.windows") ?? "0") ?? 0
        #expect(windows >= 2)
        #expect(closings.count == windows, "every window announced: \(closings)")
        #expect(closings.values.allSatisfy { $0 == 1 }, "each window closed exactly once: \(closings)")
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [])
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 2) == [])
    }
}
