import Foundation
import PostgresReplication

/// Closing a day of millions of keys: how long the sink takes to make the day's per-key rows
/// final (the finisher's transaction, beside the stream).
///
/// The day's keys are written through the slot as in the memory benchmark (new keys in
/// 10,000-change transactions); then the source's clock moves 26 hours ahead and one change
/// is committed: its commit time is past the day's end and grace, so the next checkpoint
/// closes the day and the finisher makes it final. Daybook logs that transaction's sink time
/// (`daybook.sink_ms`).
struct CloseBenchmark {
    let environment: BenchEnvironment
    let tools: Tools

    func run(keys: Int, level: String = "keys", api: Bool = false) throws {
        guard let clock = environment.sourceClock else {
            throw BenchError("the close benchmark needs a movable source clock")
        }
        try clock.set(offsetSeconds: 0)
        let backlog = try Backlog.make(
            .inserts,
            changes: keys,
            transactionSize: 10_000,
            on: environment,
            name: "bench_close"
        )
        defer {
            environment.slots.drop(backlog.baseSlot)
            environment.dropDatabase(backlog.database)
        }
        let sink = try environment.createSinkDatabase("bench_close_sink", daybook: tools.daybook)
        defer { environment.dropDatabase("bench_close_sink") }
        if level != "keys" {
            // The rule `daybook capture` records, from the start of the slot.
            try PostgresConnection(ConnectionString(sink)).query(
                "INSERT INTO daybook.capture (slot_name, table_name, level, since_lsn) VALUES ($1, 'bench.orders', $2, '0/0')",
                [backlog.baseSlot, level]
            )
        }
        let log = "\(tools.logDirectory)/bench_close.log"
        try? FileManager.default.removeItem(atPath: log)
        let arguments = [
            "run", "--database", backlog.connectionString, "--sink", sink, "--slot", backlog.baseSlot,
            "--publication", backlog.publication,
        ]
        let drain = try MeasuredProcess.run(tools.daybook, arguments + ["--until-lsn", backlog.endLSN], logFile: log)
        guard drain.status == 0 else {
            throw BenchError("daybook run failed draining the day (exit \(drain.status)); see \(log)")
        }

        try clock.advance(toOffsetSeconds: 26 * 3600)
        let source = try PostgresConnection(ConnectionString(backlog.connectionString))
        try source.simpleQuery("SELECT bench.touch(1, 1)")
        let end = try source.query("SELECT pg_current_wal_insert_lsn()::text").scalar ?? "0/0"
        let close = try MeasuredProcess.run(tools.daybook, arguments + ["--until-lsn", end], logFile: log)
        guard close.status == 0 else {
            throw BenchError("daybook run failed closing the day (exit \(close.status)); see \(log)")
        }
        guard let closed = try WindowClosedLine.last(in: log) else {
            let closedAt = try source.query(
                "SELECT pg_xact_commit_timestamp(xmin)::text FROM bench.orders WHERE id = 1"
            ).scalar
            throw BenchError(
                "the day did not close: the change that should close it committed at \(closedAt ?? "?") (see \(log))"
            )
        }
        try clock.set(offsetSeconds: 0)
        let sinkDatabase = try PostgresConnection(ConnectionString(sink))
        let keysInSink =
            try sinkDatabase.query(
                "SELECT coalesce(sum(keys), 0) FROM daybook.table_summaries"
            ).scalar ?? "?"
        let partition =
            try sinkDatabase.query(
                "SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits WHERE inhparent = 'daybook.key_changes'::regclass"
            ).scalar ?? "?"
        say("\n## closing a day of \(keys.formatted()) keys at \(level)")
        say(
            "drain into the open day: \(format(drain.wall)) s wall, daybook \(format(drain.cpu)) s CPU, "
                + "peak \(drain.peakResidentBytes >> 20) MB"
        )
        say(
            "making the day final: \(closed.sinkSeconds) s of sink time for "
                + "\(closed.keys) keys (sink: \(keysInSink) keys in closed windows; per-key rows \(partition)); "
                + "the closing run \(format(close.wall)) s wall, peak \(close.peakResidentBytes >> 20) MB"
        )
        if api {
            let reports = ReportTimings(
                daybook: tools.daybook,
                source: backlog.connectionString,
                sink: sink,
                slot: backlog.baseSlot,
                logDirectory: tools.logDirectory
            )
            try reports.forgetStatistics()
            try reports.time("fresh: no statistics yet")
            try APITimings(
                daybook: tools.daybook,
                source: backlog.connectionString,
                sink: sink,
                slot: backlog.baseSlot,
                table: "bench.orders",
                logDirectory: tools.logDirectory
            ).run()
            try reports.analyse()
            try reports.time("analysed")
        }
    }
}

/// Daybook's `window closed` log line: how many keys the window had and how long the sink took
/// to make it final (`daybook.keys`, `daybook.sink_ms`).
struct WindowClosedLine {
    let keys: String
    let sinkSeconds: String

    /// The last such line in `log`, nil when no window closed.
    static func last(in log: String) throws -> WindowClosedLine? {
        guard
            let line = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last(where: {
                $0.contains("window closed")
            })
        else { return nil }
        let keys = field("daybook.keys", in: String(line))
        let milliseconds = field("daybook.sink_ms", in: String(line))
        return WindowClosedLine(
            keys: keys?.formatted() ?? "?",
            sinkSeconds: milliseconds.map { format(Double($0) / 1000) } ?? "?"
        )
    }

    /// The integer value of `name=` in a log line.
    private static func field(_ name: String, in line: String) -> Int? {
        guard let range = line.range(of: name + "=") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
}
