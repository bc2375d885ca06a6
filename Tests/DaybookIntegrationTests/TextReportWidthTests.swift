import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// The text report a new user reads first fits a 100-column terminal (issue 29): the demo's
/// workload (`scripts/demo`: three tables, one at `values`, inserts, updates and deletes over
/// several windows), closed, then `daybook report` as the demo runs it.
@Suite(.serialized)
struct TextReportWidthTests {
    @Test func theDemosDayFitsOneHundredColumnsAndWideKeepsEveryColumn() throws {
        let database = try TestDatabase("report_width")
        let environment = ["DAYBOOK_DATABASE": database.connectionString, "DAYBOOK_SLOT": database.name]
        try database.connection.simpleQuery(
            """
            CREATE SCHEMA shop;
            CREATE TABLE shop.customers (id integer PRIMARY KEY, name text NOT NULL);
            CREATE TABLE shop.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer integer, total numeric);
            CREATE TABLE shop.order_lines (order_id bigint, line integer, sku text, PRIMARY KEY (order_id, line));
            """
        )
        #expect(try DaybookProcess.run(["migrate"], environment: environment).status == 0)
        #expect(try DaybookProcess.run(["setup", "--schemas", "shop"], environment: environment).status == 0)
        #expect(try DaybookProcess.run(["capture", "shop.customers", "values"], environment: environment).status == 0)
        let service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        defer { _ = service.stop() }
        for round in 1...12 {
            try database.execute(
                """
                INSERT INTO shop.customers VALUES (\(round), 'customer \(round)')
                    ON CONFLICT (id) DO UPDATE SET name = excluded.name || '*';
                INSERT INTO shop.orders (customer, total) VALUES (\(round % 4 + 1), \(round * 10));
                INSERT INTO shop.order_lines SELECT currval('shop.orders_id_seq'), g, 'sku-' || g FROM generate_series(1, 3) g;
                UPDATE shop.customers SET name = name || '!' WHERE id = \(round % 3 + 1);
                """
            )
            if round % 5 == 0 { try database.execute("DELETE FROM shop.order_lines WHERE line = 3") }
            Thread.sleep(forTimeInterval: 0.4)
        }
        try waitUntil("every window closes", log: service) {
            _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment)
            return try database.scalar("SELECT count(*) FROM daybook.windows WHERE status <> 'closed'") == "0"
        }

        for arguments in [["report"], ["report", "--windows"]] {
            let report = try DaybookProcess.run(arguments, environment: environment)
            #expect(report.status == 0, "\(report.stderr)")
            #expect(
                report.stdout.contains(arguments.count == 1 ? "shop.orders" : "closed"),
                "\(arguments): \(report.stdout)"
            )
            let wide = report.stdout.split(separator: "\n").map(String.init).filter { $0.count > 100 }
            #expect(wide.isEmpty, "\(arguments): lines over 100 columns:\n\(wide.joined(separator: "\n"))")
        }
        // The same figures as the JSON, and every column with --wide.
        let text = try DaybookProcess.run(["report"], environment: environment).stdout
        let json = try DaybookProcess.run(["report", "--format", "json"], environment: environment).stdout
        let rows = json.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let inserts = rows.compactMap { $0["inserts"] as? Int }.reduce(0, +)
        #expect(inserts == 12 + 12 + 36, "\(json)")
        let header = text.split(separator: "\n").first.map(String.init) ?? ""
        #expect(header.hasPrefix("window ") && header.contains(" ins ") && header.contains(" first "), "\(header)")
        let insertColumn = header.split(separator: " ", omittingEmptySubsequences: true).firstIndex(of: "ins")!
        let textInserts = text.split(separator: "\n").dropFirst(2).prefix { !$0.isEmpty && $0.first != "n" }.compactMap
        {
            Int($0.split(separator: " ", omittingEmptySubsequences: true)[insertColumn])
        }.reduce(0, +)
        #expect(textInserts == inserts, "\(text)")
        let wide = try DaybookProcess.run(["report", "--wide"], environment: environment).stdout
        #expect(wide.contains("window_start") && wide.contains("first_change_at") && wide.contains("truncates"))
    }
}
