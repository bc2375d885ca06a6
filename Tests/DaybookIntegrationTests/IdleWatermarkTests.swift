import DaybookTestSupport
import Foundation
import PostgresReplication
import Synchronization
import Testing

/// The opt-in idle watermark: the server's clock closes windows on a quiet database with no
/// heartbeat at all; a change that loses the race with it is late, never lost.
@Suite(.serialized)
struct IdleWatermarkTests {
    @Test func quietDatabaseClosesWindowsWithoutHeartbeats() throws {
        let database = try TestDatabase("idle")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let service = try DaybookProcess(
            Workload.runArguments(database, extra: ["--idle-watermark"]),
            environment: environment
        )
        defer { _ = service.stop() }
        var random = SeededRandom(seed: 5)
        for _ in 0..<3 {
            for _ in 0..<10 { try Workload.randomTransaction(database.connection, random: &random) }
            Thread.sleep(forTimeInterval: 1)
        }
        try waitUntil("the idle watermark closes every window", timeout: .seconds(20), log: service) {
            try IndependentCount.unclosedWindows(database.connection, windowSeconds: 2) == 0
        }
        #expect(try database.scalar("SELECT beats FROM daybook.heartbeat") == "0", "no heartbeat was written")
        #expect(
            try database.scalar("SELECT closed_by FROM daybook.windows ORDER BY window_start DESC LIMIT 1") == "idle"
        )
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [])
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 2) == [])
    }

    /// Under a concurrent write load with no grace at all, measures how often a commit loses
    /// the race with the watermark; every such change is recorded as late, none is lost.
    @Test func raceWithConcurrentWritesLosesNothing() throws {
        let database = try TestDatabase("idlerace")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let service = try DaybookProcess(
            [
                "run", "--slot", database.name, "--window", "1s", "--grace", "0s", "--checkpoint-every", "100ms",
                "--idle-watermark",
            ],
            environment: environment
        )
        defer { _ = service.stop() }
        let connectionString = database.connectionString
        let writers = 3
        let done = Atomic<Int>(0)
        for writer in 0..<writers {
            Thread {
                if let connection = try? PostgresConnection(ConnectionString(connectionString)) {
                    var random = SeededRandom(seed: UInt64(writer) &* 977)
                    let deadline = Date().addingTimeInterval(10)
                    while Date() < deadline {
                        try? Workload.randomTransaction(connection, random: &random)
                        // Bursty: pauses let the watermark fire between concurrent commits.
                        Thread.sleep(forTimeInterval: Double(random.next(below: 300)) / 1000)
                    }
                }
                done.add(1, ordering: .releasing)
            }.start()
        }
        while done.load(ordering: .acquiring) < writers { Thread.sleep(forTimeInterval: 0.1) }
        try waitUntil("the idle watermark closes every window after the load", timeout: .seconds(20), log: service) {
            try IndependentCount.unclosedWindows(database.connection, windowSeconds: 1) == 0
        }
        let audited = IndependentCount.changeCount
        let changes = try audited(database.connection)
        let counted =
            Int(
                try database.scalar(
                    "SELECT coalesce(sum(inserts + updates + deletes + truncates), 0) FROM daybook.table_windows"
                )
                    ?? "0"
            ) ?? 0
        let late = Int(try database.scalar("SELECT count(*) FROM daybook.late_changes") ?? "0") ?? 0
        #expect(changes > 100)
        #expect(
            counted + late == changes,
            "every change is counted or recorded late: \(counted) + \(late) vs \(changes)"
        )
        let rate = Double(late) / Double(max(changes, 1)) * 100
        let byIdle = try database.scalar("SELECT count(*) FROM daybook.windows WHERE closed_by = 'idle'") ?? "?"
        let windows = try database.scalar("SELECT count(*) FROM daybook.windows") ?? "?"
        print(
            "idle watermark race: \(changes) changes, \(late) late (\(String(format: "%.3f", rate))%), "
                + "\(byIdle) of \(windows) windows closed by the watermark, window 1s, grace 0s"
        )
    }
}
