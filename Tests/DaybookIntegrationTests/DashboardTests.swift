import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// The dashboard in a real headless Chromium (Selenium, `Tests/Browser/dashboard_check.py`):
/// the figures it shows are `daybook report`'s, a window closing while the page is open shows
/// without a reload, no console errors, a phone-sized window does not overflow, and the core
/// tables are there with JavaScript off. Screenshots go to `.build/test-artifacts/`.
@Suite(.serialized)
struct DashboardTests {
    @Test func theDashboardShowsTheReportsFiguresAndAWindowClosingWithoutAReload() throws {
        let database = try TestDatabase("dashboard")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        #expect(
            try DaybookProcess.run(
                ["capture", "app.accounts", "values", "--slot", database.name],
                environment: environment
            ).status == 0
        )
        let (service, port) = try listeningService(database)
        defer { _ = service.stop() }

        // A closed window, then an open one while the page opens.
        try database.execute("INSERT INTO app.accounts SELECT g, g FROM generate_series(1, 12) g")
        try database.execute("UPDATE app.accounts SET balance = 0 WHERE id <= 4")
        try database.heartbeatUntilEveryWindowCloses("the first window closes", service: service)
        try database.execute("INSERT INTO app.tags VALUES ('x', 1), ('y', 2), ('z', 3)")
        var open: String?
        try waitUntil("the second window is open in the sink", log: service) {
            open = try database.scalar(
                """
                SELECT to_char(window_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS+00:00') FROM daybook.windows
                 WHERE slot_name = $1 AND status = 'open' ORDER BY window_start DESC LIMIT 1
                """,
                [database.name]
            )
            return open != nil
        }
        let window = try #require(open)

        let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/test-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let browser = try BrowserScript("dashboard_check.py", ["http://127.0.0.1:\(port)/", window, artifacts.path])
        func phases() -> [String: [String: Any]] {
            let text = browser.said
            var found: [String: [String: Any]] = [:]
            for line in text.split(separator: "\n") {
                if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let phase = object["phase"] as? String
                {
                    found[phase] = object
                }
            }
            return found
        }
        try waitUntil("the page shows", timeout: .seconds(90)) { phases()["initial"] != nil || !browser.isRunning }
        let initial = try #require(phases()["initial"], "\(browser.said)")
        #expect((initial["windows"] as? [String: [String: String]])?[window]?["status"] == "open")

        // The open window closes while the page stays open.
        try database.heartbeatUntilEveryWindowCloses("the second window closes", service: service)
        try waitUntil("the browser is done", timeout: .seconds(150)) { !browser.isRunning }
        let log = browser.said
        #expect(browser.process.terminationStatus == 0, "\(log.suffix(3000))")
        let closed = try #require(phases()["closed"], "\(log.suffix(3000))")
        #expect(closed["same_document"] as? Bool == true, "the close showed without a reload")
        let shown = try #require(closed["windows"] as? [String: [String: String]])
        #expect(shown[window]?["status"] == "closed")

        // Its figures are the report's.
        let printed = try DaybookProcess.run(
            ["report", "--windows", "--from", "today", "--slot", database.name, "--format", "json"],
            environment: environment
        )
        var reported: [String: String] = [:]
        for line in printed.stdout.split(separator: "\n") {
            if let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let start = object["window_start"] as? String
            {
                reported[start] = "\(object["changes"] ?? "")"
            }
        }
        #expect(!reported.isEmpty)
        for (start, changes) in reported { #expect(shown[start]?["changes"] == changes, "window \(start)") }
        let page = try #require(phases()["window"]?["tables"] as? [String: [String: String]])
        let end = try #require(
            try database.scalar(
                "SELECT to_char(window_end AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS+00:00') FROM daybook.windows WHERE slot_name = $1 AND window_start = $2::timestamptz",
                [database.name, window]
            )
        )
        let tables = try DaybookProcess.run(
            ["report", "--from", window, "--to", end, "--slot", database.name, "--format", "json"],
            environment: environment
        )
        for line in tables.stdout.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let table = try #require(object["table"] as? String)
            for column in ["inserts", "updates", "deletes", "keys"] {
                #expect(page[table]?[column] == "\(object[column] ?? "")", "\(table).\(column)")
            }
        }

        for phase in ["initial", "closed", "phone", "window"] {
            #expect(
                (phases()[phase]?["console_errors"] as? [Any])?.isEmpty == true,
                "\(phase): \(phases()[phase] ?? [:])"
            )
        }
        #expect((phases()["phone"]?["overflow"] as? Int ?? 1) <= 0, "a phone-sized window does not scroll sideways")
        #expect(FileManager.default.fileExists(atPath: artifacts.appendingPathComponent("dashboard.png").path))
        #expect(FileManager.default.fileExists(atPath: artifacts.appendingPathComponent("dashboard-phone.png").path))

        // JavaScript off: the page as the server renders it has the same table.
        let plain = try httpGet(port: port, path: "/")
        #expect(plain.status == 200)
        #expect(plain.body.contains("data-window=\"\(window)\" data-status=\"closed\""))
        #expect(plain.headers["Content-Security-Policy"]?.contains("default-src 'self'") == true)
        #expect(!plain.body.contains("http://") && !plain.body.contains("https://"), "nothing from elsewhere")
    }

    @Test func thePageSaysWhenTheSinkIsDownAndRecoversWithoutAReload() throws {
        let cluster = try Cluster.forTest("dashboard-sink")
        defer { cluster.remove() }
        let sink = cluster.database("postgres")
        let environment = ["DAYBOOK_DATABASE": sink]
        let migrated = try DaybookProcess.run(["migrate"], environment: environment)
        #expect(migrated.status == 0, "\(migrated.stderr)")
        let port = try freePort()
        let serve = try DaybookProcess(
            ["serve", "--slot", "dashboard_sink", "--listen", "127.0.0.1:\(port)"],
            environment: environment
        )
        defer { _ = serve.stop() }
        try waitUntil("serve listens", log: serve) { serve.stderr.contains("serving HTTP") }

        let browser = try BrowserScript("dashboard_recovery.py", ["http://127.0.0.1:\(port)/"])
        func said() -> String { browser.said }

        try waitUntil("the page shows", timeout: .seconds(90)) { said().contains("opened") || !browser.isRunning }
        try cluster.crash()
        try waitUntil("the page says the sink is down", timeout: .seconds(90)) {
            said().contains("down ") || !browser.isRunning
        }
        #expect(try httpGet(port: port, path: "/readyz").status == 503)
        try cluster.resume()
        try waitUntil("the browser is done", timeout: .seconds(150)) { !browser.isRunning }
        #expect(browser.process.terminationStatus == 0, "\(said())")
        #expect(said().contains("recovered\n"), "\(said())")
        #expect(said().contains("cannot read the sink"), "the banner says what is wrong: \(said())")
        #expect(!said().contains("password"), "\(said())")
        #expect(serve.isRunning)
    }
}
