import Foundation
import PostgresReplication

/// One instance reading all four tables against two instances, each with its own
/// publication (two tables each) and slot, writing into the same sink.
struct ScaleBenchmark {
    let environment: BenchEnvironment
    let tools: Tools

    func run(changes: Int, transactionSize: Int, runs: Int) throws {
        let halves = [
            "bench_a": Array(BenchmarkSchema.tables.prefix(2)), "bench_b": Array(BenchmarkSchema.tables.suffix(2)),
        ]
        let backlog = try Backlog.make(
            .hot,
            changes: changes,
            transactionSize: transactionSize,
            on: environment,
            name: "bench_scale",
            publications: halves.merging(["bench": BenchmarkSchema.tables]) { first, _ in first }
        )
        say(
            "\n## scale: one instance (4 tables) against two instances (2 tables each, own slot and publication), one sink"
        )
        say("\(backlog.label), \(changes.formatted()) changes")
        say("run | one instance s | changes/s | two instances s | changes/s | speed-up")
        var speedUps: [Double] = []
        for run in 1...runs {
            let one = try measure(backlog, run: run, publications: ["bench"])
            let two = try measure(backlog, run: run, publications: ["bench_a", "bench_b"])
            speedUps.append(one / two)
            say(
                "\(run) | \(format(one)) | \(Int(Double(changes) / one).formatted()) | \(format(two)) | "
                    + "\(Int(Double(changes) / two).formatted()) | \(format(one / two))"
            )
        }
        say("median speed-up of two instances over one: \(format(median(speedUps)))")
    }

    /// Runs one instance per publication at once into a fresh shared sink; returns the wall
    /// time until the last one has committed everything, after checking that `daybook
    /// report --all-slots` shows the union of all four tables.
    private func measure(_ backlog: Backlog, run: Int, publications: [String]) throws -> Double {
        let sinkName = "bench_scale_sink_\(run)_\(publications.count)"
        let sink = try environment.createSinkDatabase(sinkName, daybook: tools.daybook)
        defer { environment.dropDatabase(sinkName) }
        var slots: [String] = []
        defer { for slot in slots { environment.slots.drop(slot) } }
        for publication in publications {
            let slot = "bench_scale_\(run)_\(publication)"
            try environment.slots.create(slot, on: backlog.connectionString, copying: backlog.baseSlot)
            slots.append(slot)
        }
        let started = ContinuousClock.now
        let processes = try zip(slots, publications).map { slot, publication in
            try MeasuredProcess.spawn(
                tools.daybook,
                [
                    "run", "--database", backlog.connectionString, "--sink", sink, "--slot", slot, "--publication",
                    publication,
                    "--until-lsn", backlog.endLSN,
                ],
                logFile: "\(tools.logDirectory)/\(slot).log"
            )
        }
        for process in processes {
            let result = try MeasuredProcess.reap(process, started: started)
            guard result.status == 0 else { throw BenchError("daybook run exited with \(result.status)") }
        }
        let wall = (ContinuousClock.now - started).seconds
        let report = try MeasuredProcess.run(
            tools.daybook,
            ["report", "--sink", sink, "--all-slots", "--include-open", "--format", "csv"],
            logFile: "\(tools.logDirectory)/\(sinkName).csv"
        )
        let csv = (try? String(contentsOfFile: "\(tools.logDirectory)/\(sinkName).csv", encoding: .utf8)) ?? ""
        guard report.status == 0, BenchmarkSchema.tables.allSatisfy({ csv.contains($0) }) else {
            throw BenchError("daybook report --all-slots does not show all four tables for \(sinkName)")
        }
        let counted =
            try PostgresConnection(ConnectionString(sink)).query(
                "SELECT coalesce(sum(inserts + updates + deletes), 0) FROM daybook.table_windows"
            ).scalar.flatMap { Int($0) } ?? -1
        guard counted == backlog.changes else {
            throw BenchError("the shared sink holds \(counted) changes, not \(backlog.changes)")
        }
        return wall
    }
}
