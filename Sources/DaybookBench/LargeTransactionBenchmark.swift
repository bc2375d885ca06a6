import Foundation
import PostgresReplication

/// One transaction of millions of rows, with the server streaming it while it runs (pgoutput
/// protocol 2, `daybook run --streaming`) and without (`--no-streaming`, the server decodes it
/// whole to disk after its commit): the time from its COMMIT to its results in the sink,
/// Daybook's peak memory, and what the server streamed and spilled to disk.
struct LargeTransactionBenchmark {
    let environment: BenchEnvironment
    let tools: Tools

    func run(rows: Int) throws {
        say("\n## one transaction of \(rows.formatted()) new rows, logical_decoding_work_mem 64MB (the default)")
        for streaming in [true, false] { try measure(rows: rows, streaming: streaming) }
    }

    private func measure(rows: Int, streaming: Bool) throws {
        let name = "bench_large_\(streaming ? "streamed" : "whole")"
        let source = try environment.createSourceDatabase(name)
        let connection = try PostgresConnection(ConnectionString(source))
        try connection.simpleQuery(
            "CREATE SCHEMA bench; CREATE TABLE bench.big (id integer PRIMARY KEY, v integer); CREATE PUBLICATION bench FOR TABLE bench.big"
        )
        let slot = "\(name)_slot"
        try environment.slots.create(slot, on: source)
        defer { environment.slots.drop(slot) }
        let sink = try environment.createSinkDatabase("\(name)_sink", daybook: tools.daybook)
        defer {
            environment.dropDatabase(name)
            environment.dropDatabase("\(name)_sink")
        }
        let log = "\(tools.logDirectory)/\(slot).log"
        let service = try MeasuredProcess.spawn(
            tools.daybook,
            [
                "run", "--database", source, "--sink", sink, "--slot", slot, "--publication", "bench",
                streaming ? "--streaming" : "--no-streaming",
            ],
            logFile: log
        )
        let serviceStarted = ContinuousClock.now
        var reaped = false
        defer {
            if !reaped {
                kill(service, SIGKILL)
                _ = try? MeasuredProcess.reap(service, started: serviceStarted)
            }
        }
        for attempt in 0...200 {
            if try connection.query("SELECT active FROM pg_replication_slots WHERE slot_name = $1", [slot]).scalar
                == "t"
            {
                break
            }
            if attempt == 200 { throw BenchError("daybook did not start streaming slot \(slot); see \(log)") }
            Thread.sleep(forTimeInterval: 0.05)
        }

        let writeStarted = ContinuousClock.now
        try connection.query("INSERT INTO bench.big SELECT g, g FROM generate_series(1, $1::integer) g", [String(rows)])
        let committed = ContinuousClock.now
        let sinkConnection = try PostgresConnection(ConnectionString(sink))
        while true {
            let counted =
                try sinkConnection.query("SELECT coalesce(sum(inserts), 0) FROM daybook.table_windows").scalar
                .flatMap { Int($0) } ?? 0
            if counted >= rows { break }
            if ContinuousClock.now - committed > .seconds(1800) {
                throw BenchError("the results did not arrive within 30 minutes; see \(log)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let results = ContinuousClock.now - committed
        let stats =
            try connection.query(
                """
                SELECT stream_txns, stream_bytes, spill_txns, spill_bytes FROM pg_stat_replication_slots WHERE slot_name = $1
                """,
                [slot]
            ).rows.first ?? []
        kill(service, SIGTERM)
        let measured = try MeasuredProcess.reap(service, started: serviceStarted)
        reaped = true
        func megabytes(_ text: String?) -> String { "\((Int(text ?? "") ?? 0) >> 20) MB" }
        let replay =
            streaming
            ? Self.replayMilliseconds(in: log).map {
                " (of which replaying it from the sink: \(format(Double($0) / 1000)) s)"
            } ?? "" : ""
        say(
            "\(streaming ? "--streaming   " : "--no-streaming"): the transaction took \(format((committed - writeStarted).seconds)) s; "
                + "COMMIT to results in the sink \(format(results.seconds)) s\(replay); daybook peak \(measured.peakResidentBytes >> 20) MB, "
                + "CPU \(format(measured.cpu)) s; server streamed \(stats.first.flatMap { $0 } ?? "?") transaction(s), "
                + "\(megabytes(stats.count > 1 ? stats[1] : nil)); spilled \(stats.count > 2 ? stats[2] ?? "?" : "?") "
                + "transaction(s), \(megabytes(stats.count > 3 ? stats[3] : nil)) to disk"
        )
    }

    /// `daybook.replay_ms` of the log's "streamed transaction committed" line.
    private static func replayMilliseconds(in log: String) -> Int? {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8),
            let line = text.split(separator: "\n").last(where: { $0.contains("streamed transaction committed") }),
            let field = line.split(separator: " ").first(where: { $0.hasPrefix("daybook.replay_ms=") })
        else { return nil }
        return Int(field.dropFirst("daybook.replay_ms=".count))
    }
}
