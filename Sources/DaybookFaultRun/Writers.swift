import DaybookTestSupport
import Foundation
import PostgresReplication
import Synchronization

/// Concurrent writers of the audited workload. They ride out the faults: a failed
/// transaction (server crashed, connection cut) is simply dropped and the connection
/// reopened, just as an application would. What committed is what the audit log holds.
final class Writers: Sendable {
    private let stopFlag = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)
    private let committed = Atomic<Int>(0)

    init(count: Int, connectionString: String, seed: UInt64) {
        for writer in 0..<count {
            running.add(1, ordering: .relaxed)
            let thread = Thread { [self] in
                var random = SeededRandom(seed: seed &+ UInt64(writer) &* 0x9E37)
                var connection: PostgresConnection?
                var sinceBulk = 0
                while !stopFlag.load(ordering: .relaxed) {
                    do {
                        if connection == nil { connection = try PostgresConnection(ConnectionString(connectionString)) }
                        // Now and then the first writer's transaction is a bulk one, whose
                        // events the sink is given ahead of their checkpoint, faults included.
                        sinceBulk += 1
                        if writer == 0, sinceBulk >= 400 {
                            sinceBulk = 0
                            try Workload.bulkTransaction(connection!, random: &random)
                        } else {
                            try Workload.randomTransaction(connection!, random: &random)
                        }
                        committed.add(1, ordering: .relaxed)
                        Thread.sleep(forTimeInterval: Double(random.next(below: 8)) / 1000)
                    } catch {
                        connection = nil
                        Thread.sleep(forTimeInterval: 0.2)
                    }
                }
                running.subtract(1, ordering: .releasing)
            }
            thread.start()
        }
    }

    /// Transactions the writers saw commit (a crash may also commit one they never heard back from).
    var transactions: Int { committed.load(ordering: .relaxed) }

    func stop() {
        stopFlag.store(true, ordering: .relaxed)
        while running.load(ordering: .acquiring) > 0 { Thread.sleep(forTimeInterval: 0.05) }
    }
}
