import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// A dropped replication connection is retried with backoff and resumes from the checkpoint.
@Suite(.serialized)
struct ReconnectTests {
    @Test func terminatedWalsenderIsReconnectedWithoutLoss() throws {
        let database = try TestDatabase("reconnect")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        defer { _ = service.stop() }
        var random = SeededRandom(seed: 42)
        for round in 0..<3 {
            for _ in 0..<20 { try Workload.randomTransaction(database.connection, random: &random) }
            try waitUntil("the walsender is streaming (round \(round))", log: service) {
                try database.scalar(
                    "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'daybook' AND state = 'streaming'"
                )
                    == "1"
            }
            try database.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_replication WHERE application_name = 'daybook'"
            )
            for _ in 0..<20 { try Workload.randomTransaction(database.connection, random: &random) }
        }
        try database.heartbeatUntilEveryWindowCloses("heartbeats close every window after reconnects", service: service)
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [])
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 2) == [])
        #expect(service.stderr.contains("reconnecting"))
        #expect(service.process.isRunning)
    }
}
