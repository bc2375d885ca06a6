import DaybookTestSupport
import Foundation
import PostgresReplication
import Synchronization
import Testing

/// Crashes at random moments under load must neither lose nor double a change.
@Suite(.serialized)
struct ExactlyOnceTests {
    @Test func sigkillUnderLoadLosesAndDoublesNothing() throws {
        let database = try TestDatabase("kill")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let seed = UInt64.random(in: 0...UInt64.max)
        let connectionString = database.connectionString
        let finished = Atomic<Bool>(false)
        let failure = Mutex<String?>(nil)
        let workload = Thread {
            do {
                let connection = try PostgresConnection(ConnectionString(connectionString))
                var random = SeededRandom(seed: seed)
                let deadline = Date().addingTimeInterval(9)
                while Date() < deadline {
                    try Workload.randomTransaction(connection, random: &random)
                    Thread.sleep(forTimeInterval: 0.002)
                }
            } catch {
                failure.withLock { $0 = "workload failed: \(error)" }
            }
            finished.store(true, ordering: .releasing)
        }
        workload.start()

        var random = SeededRandom(seed: seed ^ 0xDAB)
        var service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        var kills = 0
        while !finished.load(ordering: .acquiring) || kills < 5 {
            Thread.sleep(forTimeInterval: 0.3 + Double(random.next(below: 1200)) / 1000)
            service.killHard()
            kills += 1
            service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        }
        while !finished.load(ordering: .acquiring) { Thread.sleep(forTimeInterval: 0.1) }
        #expect(failure.withLock { $0 } == nil)
        #expect(kills >= 5)

        try database.heartbeatUntilEveryWindowCloses(
            "heartbeats close every window after the crashes",
            service: service
        )
        let changes = try IndependentCount.changeCount(database.connection)
        #expect(changes > 100, "the workload made too few changes to mean anything")
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [], "seed \(seed)")
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 2) == [], "seed \(seed)")
        #expect(service.process.isRunning, "daybook run stopped: \(service.stderr.suffix(3000))")
        _ = service.stop()
    }
}
