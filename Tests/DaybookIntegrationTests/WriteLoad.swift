import DaybookTestSupport
import Foundation
import PostgresReplication
import Synchronization

/// Writes random audited transactions (``Workload``) through a connection string, multi-host
/// or not, until stopped, reconnecting whenever the server goes away.
final class WriteLoad {
    private final class State: Sendable {
        let stopped = Atomic<Bool>(false)
        let finished = Atomic<Bool>(false)
    }
    private let state = State()

    init(_ connectionString: String) {
        let state = state
        let thread = Thread {
            defer { state.finished.store(true, ordering: .releasing) }
            var random = SeededRandom(seed: 33)
            var connection: PostgresConnection?
            while !state.stopped.load(ordering: .acquiring) {
                do {
                    if connection == nil { connection = try PostgresConnection(ConnectionString(connectionString)) }
                    try Workload.randomTransaction(connection!, random: &random)
                } catch {
                    connection = nil
                    Thread.sleep(forTimeInterval: 0.1)
                }
            }
        }
        thread.start()
    }

    func stop() {
        state.stopped.store(true, ordering: .releasing)
        while !state.finished.load(ordering: .acquiring) { Thread.sleep(forTimeInterval: 0.05) }
    }
}
