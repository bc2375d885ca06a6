import Foundation
import PostgresReplication

/// A source database for the live benchmarks: the benchmark's tables with 100,000 prefilled keys
/// each, a publication of all four, and commits flushed at once as in production (with
/// `synchronous_commit` off the WAL writer's delay, 200 ms, would hold every change back from
/// the walsender).
struct LiveSource {
    static let prefilledKeys = 100_000
    let connectionString: String
    let connection: PostgresConnection

    init(_ name: String, in environment: BenchEnvironment) throws {
        connectionString = try environment.createSourceDatabase(name)
        connection = try PostgresConnection(ConnectionString(connectionString))
        try connection.simpleQuery("ALTER DATABASE \(name) SET synchronous_commit = on")
        try connection.simpleQuery(BenchmarkSchema.create)
        try connection.simpleQuery("CALL bench.prefill(\(Self.prefilledKeys))")
        try connection.simpleQuery(
            "CREATE PUBLICATION bench FOR TABLE \(BenchmarkSchema.tables.joined(separator: ", "))"
        )
    }

    /// Waits until a client streams from `slot`.
    func waitForActiveSlot(_ slot: String) throws {
        for _ in 0..<200 {
            if try connection.query("SELECT active FROM pg_replication_slots WHERE slot_name = $1", [slot]).scalar
                == "t"
            {
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw BenchError("no client started streaming slot \(slot)")
    }
}

/// pgbench writing a steady rate of updates to prefilled keys: each transaction one `UPDATE` of
/// `transactionSize` consecutive keys of `bench.orders`, at random.
struct UpdateLoad {
    let changesPerSecond: Int
    let transactionSize: Int
    let seconds: Int

    var transactionsPerSecond: Int { max(1, changesPerSecond / transactionSize) }

    /// Starts pgbench against `source`, its report in `logFile`; reap it with
    /// ``MeasuredProcess/reap(_:started:)``.
    func start(_ tools: Tools, source: String, logFile: String) throws -> pid_t {
        let script = "\(tools.logDirectory)/update-\(transactionSize).pgbench"
        let highest = LiveSource.prefilledKeys - transactionSize + 1
        try """
        \\set k random(1, \(highest))
        UPDATE bench.orders SET amount = amount + 1 WHERE id BETWEEN :k AND :k + \(transactionSize - 1);

        """.write(toFile: script, atomically: true, encoding: .utf8)
        return try MeasuredProcess.spawn(
            tools.pgbench,
            [
                "--no-vacuum", "--client", "8", "--jobs", "2", "--rate", String(transactionsPerSecond),
                "--time", String(seconds), "--file", script, source,
            ],
            logFile: logFile
        )
    }

    /// The changes per second pgbench actually wrote, from its report (nil when it printed none).
    func achievedChangesPerSecond(logFile: String) -> Double? {
        guard let report = try? String(contentsOfFile: logFile, encoding: .utf8),
            let match = report.firstMatch(of: /actually processed: (\d+)/),
            let transactions = Int(match.1)
        else { return nil }
        return Double(transactions * transactionSize) / Double(seconds)
    }
}
