import Foundation
import PostgresReplication

/// Daybook against pg_recvlogical on identical slots: both drain the same backlog up to the
/// same LSN, in alternating order, run after run.
struct CatchUpBenchmark {
    struct Pair {
        var receiver: Measurement
        var daybook: Measurement
        var wallRatio: Double { daybook.wall / receiver.wall }
        var cpuRatio: Double { daybook.cpu / receiver.cpu }
    }

    let environment: BenchEnvironment
    let tools: Tools
    /// The capture level of every table: `keys` (the default) or `values` (each change kept
    /// with its row, as pg_recvlogical receives it).
    var level = "keys"

    /// Runs `runs` pairs on `backlog` and prints one line per run and the medians.
    func run(_ backlog: Backlog, runs: Int) throws -> [Pair] {
        say(
            "\n## \(backlog.label): \(backlog.changes.formatted()) changes (generated in \(format(backlog.generationSeconds)) s), "
                + "every table at \(level)")
        say("run | first | pg_recvlogical s | cpu s | changes/s | peak MB | daybook s | cpu s | changes/s | peak MB | wall ratio | cpu ratio")
        var pairs: [Pair] = []
        for run in 1...runs {
            let receiverFirst = run % 2 == 1
            var receiver: Measurement?
            var daybook: Measurement?
            for turn in 0..<2 {
                if (turn == 0) == receiverFirst {
                    receiver = try runReceiver(backlog, run: run)
                } else {
                    daybook = try runDaybook(backlog, run: run)
                }
            }
            guard let receiver, let daybook else { continue }
            let pair = Pair(receiver: receiver, daybook: daybook)
            pairs.append(pair)
            let rate = { (m: Measurement) in Int(Double(backlog.changes) / m.wall).formatted() }
            say(
                "\(run) | \(receiverFirst ? "pg_recvlogical" : "daybook") | \(format(receiver.wall)) | \(format(receiver.cpu)) | "
                    + "\(rate(receiver)) | \(receiver.peakResidentBytes >> 20) | \(format(daybook.wall)) | \(format(daybook.cpu)) | "
                    + "\(rate(daybook)) | \(daybook.peakResidentBytes >> 20) | \(format(pair.wallRatio)) | \(format(pair.cpuRatio))")
        }
        say(
            "median wall ratio daybook / pg_recvlogical: \(format(median(pairs.map(\.wallRatio)))); "
                + "median CPU ratio: \(format(median(pairs.map(\.cpuRatio)))); "
                + "CPU per million changes: pg_recvlogical \(format(median(pairs.map(\.receiver.cpu)) * 1e6 / Double(backlog.changes))) s, "
                + "daybook \(format(median(pairs.map(\.daybook.cpu)) * 1e6 / Double(backlog.changes))) s")
        return pairs
    }

    private func runReceiver(_ backlog: Backlog, run: Int) throws -> Measurement {
        let slot = "\(backlog.database)_recv_\(run)"
        try environment.slots.create(slot, on: backlog.connectionString, copying: backlog.baseSlot)
        defer { environment.slots.drop(slot) }
        let measurement = try MeasuredProcess.run(
            tools.pgRecvlogical,
            [
                "--dbname", backlog.connectionString, "--slot", slot, "--start", "--endpos", backlog.endLSN,
                "--option", "proto_version=1", "--option", "publication_names=\(backlog.publication)",
                "--option", "messages=true", "--file", "/dev/null", "--no-loop",
            ])
        guard measurement.status == 0 else { throw BenchError("pg_recvlogical exited with \(measurement.status)") }
        return measurement
    }

    private func runDaybook(_ backlog: Backlog, run: Int) throws -> Measurement {
        let slot = "\(backlog.database)_day_\(run)"
        try environment.slots.create(slot, on: backlog.connectionString, copying: backlog.baseSlot)
        defer { environment.slots.drop(slot) }
        let sinkName = "\(backlog.database)_sink_\(run)"
        let sink = try environment.createSinkDatabase(sinkName, daybook: tools.daybook)
        defer { environment.dropDatabase(sinkName) }
        if level != "keys" {
            // The rule `daybook capture` records, from the start of the slot.
            try PostgresConnection(ConnectionString(sink)).query(
                """
                INSERT INTO daybook.capture (slot_name, table_name, level, since_lsn)
                SELECT $1, t, $2, '0/0' FROM unnest($3::text[]) AS t
                """, [slot, level, "{\(BenchmarkSchema.tables.joined(separator: ","))}"])
        }
        let log = "\(tools.logDirectory)/\(slot).log"
        let measurement = try MeasuredProcess.run(
            tools.daybook,
            [
                "run", "--database", backlog.connectionString, "--sink", sink, "--slot", slot,
                "--publication", backlog.publication, "--until-lsn", backlog.endLSN,
            ], logFile: log)
        guard measurement.status == 0 else { throw BenchError("daybook run exited with \(measurement.status); see \(log)") }
        try verify(sink: sink, slot: slot, changes: backlog.changes)
        try verifyEvents(sink: sink, slot: slot, changes: backlog.changes)
        return measurement
    }

    /// At `values`, also every change's event.
    private func verifyEvents(sink: String, slot: String, changes: Int) throws {
        guard level == "values" else { return }
        let events = try PostgresConnection(ConnectionString(sink)).query(
            "SELECT count(*) FROM daybook.value_events WHERE slot_name = $1", [slot]
        ).scalar.flatMap { Int($0) } ?? -1
        guard events == changes else { throw BenchError("the sink holds \(events) events for \(slot), not \(changes)") }
    }

    /// Checks that the sink holds every change: a fast daybook that lost data is no result.
    private func verify(sink: String, slot: String, changes: Int) throws {
        let connection = try PostgresConnection(ConnectionString(sink))
        let counted = try connection.query(
            "SELECT coalesce(sum(inserts + updates + deletes + truncates), 0) FROM daybook.table_windows WHERE slot_name = $1",
            [slot]
        ).scalar.flatMap { Int($0) } ?? -1
        guard counted == changes else {
            throw BenchError("the sink holds \(counted) changes for \(slot), not \(changes)")
        }
    }
}

/// The programs a benchmark runs.
struct Tools {
    var daybook: String
    var pgRecvlogical: String
    var pgbench: String
    var logDirectory: String
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func format(_ value: Double) -> String { String(format: value < 10 ? "%.2f" : "%.1f", value) }
