import Foundation
import PostgresReplication

/// What the statement trigger (`daybook capture TABLE --attribute`) costs the source: pgbench's
/// TPC-B-like transactions with and without it on the four pgbench tables, alternating, and the
/// WAL each run writes per transaction (`pg_current_wal_lsn` before and after).
struct AttributionCostBenchmark {
    let environment: BenchEnvironment
    let tools: Tools
    var scale = 10
    var clients = 4
    var seconds = 20
    var runs = 3

    struct Run {
        var transactions: Int
        var tps: Double
        var walBytesPerTransaction: Double
    }

    func run() throws {
        let source = try environment.createSourceDatabase("bench_attribution_cost")
        defer { environment.dropDatabase("bench_attribution_cost") }
        let initialise = try MeasuredProcess.run(
            tools.pgbench,
            ["--initialize", "--scale", String(scale), "--quiet", source],
            logFile: "\(tools.logDirectory)/attribution-pgbench-init.log"
        )
        guard initialise.status == 0 else {
            throw BenchError("pgbench --initialize failed (exit \(initialise.status))")
        }
        let connection = try PostgresConnection(ConnectionString(source))
        let tables = [
            "public.pgbench_accounts", "public.pgbench_branches", "public.pgbench_tellers", "public.pgbench_history",
        ]
        say(
            "\n## the statement trigger's cost to the source: pgbench TPC-B-like, scale \(scale), \(clients) clients, "
                + "\(seconds) s per run (3 UPDATEs, 1 INSERT, 1 SELECT per transaction; the trigger fires on the 4 writes)"
        )
        say("run | trigger | transactions | tps | WAL bytes per transaction")
        var without: [Run] = []
        var with: [Run] = []
        for run in 1...runs {
            for attached in run % 2 == 1 ? [false, true] : [true, false] {
                for table in tables {
                    let result = try MeasuredProcess.run(
                        tools.daybook,
                        ["capture", table, attached ? "--attribute" : "--no-attribute", "--database", source],
                        logFile: "\(tools.logDirectory)/attribution-capture.log"
                    )
                    guard result.status == 0 else {
                        throw BenchError(
                            "daybook capture --attribute failed (see \(tools.logDirectory)/attribution-capture.log)"
                        )
                    }
                }
                try connection.simpleQuery("CHECKPOINT")
                let measured = try measure(source, connection, run: run, attached: attached)
                if attached { with.append(measured) } else { without.append(measured) }
                say(
                    "\(run) | \(attached ? "on" : "off") | \(measured.transactions.formatted()) | \(format(measured.tps)) | "
                        + "\(Int(measured.walBytesPerTransaction.rounded()))"
                )
            }
        }
        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
        }
        let tpsOff = median(without.map(\.tps))
        let tpsOn = median(with.map(\.tps))
        let walOff = median(without.map(\.walBytesPerTransaction))
        let walOn = median(with.map(\.walBytesPerTransaction))
        say(
            "median: \(format(tpsOff)) tps without, \(format(tpsOn)) tps with the trigger (\(format(100 * (tpsOn / tpsOff - 1)))%); "
                + "WAL per transaction \(Int(walOff.rounded())) → \(Int(walOn.rounded())) bytes: "
                + "\(Int(((walOn - walOff) / 4).rounded())) bytes per written statement"
        )
    }

    private func measure(_ source: String, _ connection: PostgresConnection, run: Int, attached: Bool) throws -> Run {
        let before = try connection.query("SELECT pg_current_wal_lsn()::text").scalar ?? "0/0"
        let log = "\(tools.logDirectory)/attribution-pgbench-\(run)-\(attached ? "on" : "off").log"
        let result = try MeasuredProcess.run(
            tools.pgbench,
            ["--no-vacuum", "--client", String(clients), "--jobs", "2", "--time", String(seconds), source],
            logFile: log
        )
        guard result.status == 0 else { throw BenchError("pgbench failed (exit \(result.status), see \(log))") }
        let walBytes =
            try connection.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint", [before]).scalar
            .flatMap { Double($0) } ?? .nan
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        func number(after label: String) -> Double? {
            guard let line = output.split(separator: "\n").last(where: { $0.contains(label) }) else { return nil }
            return line.split(whereSeparator: { $0 == " " || $0 == "=" }).compactMap { Double($0) }.first
        }
        let transactions = Int(number(after: "number of transactions actually processed:") ?? 0)
        let tps = number(after: "tps =") ?? .nan
        return Run(
            transactions: transactions,
            tps: tps,
            walBytesPerTransaction: transactions > 0 ? walBytes / Double(transactions) : .nan
        )
    }
}
