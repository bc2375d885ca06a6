import DaybookTestSupport
import Foundation
import PostgresReplication

/// `daybook report` over a closed day of many keys, in both states of the sink's statistics: as
/// a day is right after it closed (no statistics on the tables a report reads, as before
/// autovacuum comes by, or on a sink restored from a dump) and analysed. The two should be
/// within a few seconds of each other; before the query layer's fix a fresh day's
/// `report --events` did not finish.
struct ReportTimings {
    let daybook: String
    let source: String
    let sink: String
    let slot: String
    let logDirectory: String

    /// Takes the sink's statistics away; call ``time(_:)`` after, then ``analyse()``.
    func forgetStatistics() throws {
        try PostgresConnection(ConnectionString(sink)).simpleQuery(SinkStatistics.forgetSQL)
    }

    func analyse() throws {
        try PostgresConnection(ConnectionString(sink)).simpleQuery(SinkStatistics.analyseSQL)
    }

    /// Times each report of the whole range once (they read every row of the day; a warm-up
    /// would only measure the same again) and prints a table row per report.
    func time(_ state: String) throws {
        say("\n## daybook report on the closed day, \(state)")
        say("report | wall s | daybook CPU s | output bytes")
        for (name, arguments) in [
            ("--events", ["--events"]), ("--keys", ["--keys"]), ("--top 10", ["--top", "10"]), ("tables", []),
        ] {
            let output = "\(logDirectory)/bench_report_\(name.filter(\.isLetter)).out"
            try? FileManager.default.removeItem(atPath: output)
            let run = try MeasuredProcess.run(
                daybook,
                [
                    "report", "--database", source, "--sink", sink, "--slot", slot, "--format", "json",
                    "--from", "2000-01-01", "--to", "2100-01-01",
                ] + arguments,
                logFile: output
            )
            guard run.status == 0 else {
                throw BenchError("daybook report \(name) failed (exit \(run.status)); see \(output)")
            }
            let bytes = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
            say("\(name) | \(format(run.wall)) | \(format(run.cpu)) | \(bytes.formatted())")
        }
    }
}
