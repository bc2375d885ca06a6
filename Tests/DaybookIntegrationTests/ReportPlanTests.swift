import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

@testable import Daybook

/// The plans of the query layer that `report`, the API and the dashboard share, on a sink
/// written by a real run: the same shape whether or not the sink's tables have statistics.
/// A fresh day's partitions have none until autovacuum comes by, and without them the planner
/// once aggregated a whole day's events once per key (minutes for 14,000 keys).
@Suite(.serialized)
struct ReportPlanTests {
    /// Every request the CLI, the API and the dashboard make, over the closed windows.
    private func requests(slot: String, windowStart: String, key: String) -> [(String, Report.Request)] {
        func request(_ change: (inout Report.Request) -> Void) -> Report.Request {
            var request = Report.Request()
            request.slot = slot
            request.from = "2000-01-01"
            request.to = "2100-01-01"
            change(&request)
            return request
        }
        return [
            ("tables", request { _ in }),
            (
                "tables of one table, open ones too",
                request {
                    $0.table = "app.items"
                    $0.includeOpen = true
                }
            ),
            ("windows", request { $0.windows = true }),
            ("all keys", request { $0.keys = true }),
            (
                "all keys, open ones too",
                request {
                    $0.keys = true
                    $0.includeOpen = true
                }
            ),
            (
                "a page of keys",
                request {
                    $0.keys = true
                    $0.limit = 50
                }
            ),
            (
                "the next page of keys",
                request {
                    $0.keys = true
                    $0.limit = 50
                    $0.after = Report.KeyCursor(
                        windowStart: windowStart,
                        table: "app.items",
                        firstChangeAt: windowStart,
                        key: key
                    )
                }
            ),
            (
                "a window's page of keys",
                request {
                    $0.from = nil
                    $0.to = nil
                    $0.windowStart = windowStart
                    $0.keys = true
                    $0.limit = 100
                    $0.includeOpen = true
                }
            ),
            ("top keys", request { $0.top = 10 }),
            (
                "a window's top keys",
                request {
                    $0.from = nil
                    $0.to = nil
                    $0.windowStart = windowStart
                    $0.top = 3
                }
            ),
            ("all events", request { $0.events = true }),
            (
                "a table's events",
                request {
                    $0.events = true
                    $0.table = "app.items"
                }
            ),
            (
                "one key's events",
                request {
                    $0.from = nil
                    $0.to = nil
                    $0.windowStart = windowStart
                    $0.events = true
                    $0.table = "app.items"
                    $0.key = key
                }
            ),
        ]
    }

    @Test func noReportRepeatsAWholePartitionPerRowWithOrWithoutStatistics() throws {
        let database = try TestDatabase("report_plans")
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        try database.execute(
            """
            CREATE SCHEMA app;
            CREATE TABLE app.items (id integer PRIMARY KEY, v integer, note text);
            CREATE TABLE app.tags (name text PRIMARY KEY, n integer);
            """
        )
        #expect(try DaybookProcess.run(["migrate"], environment: environment).status == 0)
        let setup = try DaybookProcess.run(
            ["setup", "--slot", database.name, "--tables", "app.items", "app.tags", "--capture", "values"],
            environment: environment
        )
        #expect(setup.status == 0, "\(setup.stderr)")
        let service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        defer { _ = service.stop() }
        // Several windows of a few thousand keys each, some changed twice.
        for round in 0..<4 {
            try database.execute(
                """
                INSERT INTO app.items SELECT g, g, 'note' FROM generate_series(\(round * 3000 + 1), \(round * 3000 + 3000)) g;
                UPDATE app.items SET v = v + 1 WHERE id % 4 = 0 AND id > \(round * 3000);
                INSERT INTO app.tags SELECT 'tag' || g, g FROM generate_series(\(round * 20 + 1), \(round * 20 + 20)) g;
                """
            )
            Thread.sleep(forTimeInterval: 2.2)
        }
        let closedWindows = "SELECT count(*) FROM daybook.windows WHERE slot_name = $1 AND status = 'closed'"
        try waitUntil("four windows close", log: service) {
            _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment)
            return try database.scalar(closedWindows, [database.name]).flatMap { Int($0) } ?? 0 >= 4
        }
        // The finisher indexes and analyses the windows it closes; wait until it has done so for
        // every closed window, then take the statistics away as a fresh day (or a sink restored
        // from a dump) has none, and keep autovacuum from bringing them back.
        try waitUntil("the closed windows are indexed", log: service) {
            try database.scalar(
                """
                SELECT count(*) FROM daybook.windows w
                 WHERE w.slot_name = $1 AND w.status = 'closed'
                   AND to_regclass(format('daybook.%I', 'key_changes_' || to_char(w.window_start AT TIME ZONE 'UTC',
                                          'YYYYMMDD"_"HH24MISS"_"US') || '_pages')) IS NULL
                """,
                [database.name]
            ) == "0"
        }
        #expect(service.stop() == 0)
        try database.execute(SinkStatistics.forgetSQL)
        let windowStart = try #require(
            try database.scalar(
                "SELECT min(window_start)::text FROM daybook.table_windows WHERE slot_name = $1 AND table_name = 'app.items'",
                [database.name]
            )
        )
        let key = #"{"id":"8"}"#

        let reader = try PostgresConnection(ConnectionString(database.connectionString))
        // A plan that multiplies work fails here in a minute rather than running for hours.
        try reader.simpleQuery("SET statement_timeout = '60s'")
        func outputs(_ state: String) throws -> [String] {
            var printed: [String] = []
            for (name, request) in requests(slot: database.name, windowStart: windowStart, key: key) {
                var statements = 0
                let output = try Report.fetch(request, from: reader) { statement, connection in
                    statements += 1
                    let plan = try #require(
                        try connection.query("EXPLAIN (FORMAT JSON) " + statement.sql, statement.parameters).scalar
                    )
                    let repeated = try PlanShape.partitionScansRepeatedPerRow(plan)
                    #expect(
                        repeated.isEmpty,
                        "\(name), \(state): a nested loop's inner side reads \(repeated)\n\(plan)"
                    )
                }
                #expect(statements == 1, "\(name): one statement reads the results")
                printed.append(
                    name + ": "
                        + (output.events ?? output.table.rows.map { $0.map { $0 ?? "" }.joined(separator: ",") })
                        .joined(separator: "\n")
                )
            }
            return printed
        }
        let fresh = try outputs("without statistics")
        #expect(
            try database.scalar("SELECT count(*) FROM pg_statistic WHERE starelid = 'daybook.key_values'::regclass")
                == "0"
        )
        try database.execute(SinkStatistics.analyseSQL)
        let analysed = try outputs("analysed")
        #expect(fresh == analysed, "the same results either way")
        // The results are there: 12,000 items' and 80 tags' keys, each with its events.
        let events = fresh.first { $0.hasPrefix("all events: ") } ?? ""
        #expect(events.split(separator: "\n").count == 12_080)
        #expect(fresh.first { $0.hasPrefix("one key's events: ") }?.contains(#""id": "8""#) == true)
    }
}

/// Reads `EXPLAIN (FORMAT JSON)`: where a plan reads a `key_changes` or `value_events`
/// partition whole on a side that runs once per row of another (a nested loop's inner side,
/// or a correlated subplan).
enum PlanShape {
    static func partitionScansRepeatedPerRow(_ json: String) throws -> [String] {
        let plans = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        var found: [String] = []
        func visit(_ node: [String: Any], repeated: Bool) {
            let type = node["Node Type"] as? String ?? ""
            if repeated, let relation = node["Relation Name"] as? String,
                relation.hasPrefix("key_changes_") || relation.hasPrefix("value_events_"),
                node["Index Cond"] == nil, node["Recheck Cond"] == nil
            {
                found.append("\(type) on \(relation)")
            }
            for child in node["Plans"] as? [[String: Any]] ?? [] {
                let relationship = child["Parent Relationship"] as? String
                let perRow = (type == "Nested Loop" && relationship == "Inner") || relationship == "SubPlan"
                visit(child, repeated: repeated || perRow)
            }
        }
        for plan in plans { if let root = plan["Plan"] as? [String: Any] { visit(root, repeated: false) } }
        return found
    }
}
