import DaybookTestSupport
import Foundation
import Testing

/// `/api/v1`: the same objects as the CLI prints, paging, bad parameters, and schemathesis
/// fuzzing `daybook serve` against the OpenAPI document.
@Suite(.serialized)
struct APITests {
    /// A database with one closed window of changes (app.accounts at values), served by
    /// `run --listen`; returns the service, its port and the closed window's start and end.
    private func closedDay(
        _ database: TestDatabase
    ) throws -> (service: DaybookProcess, port: Int, start: String, end: String) {
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let capture = try DaybookProcess.run(
            ["capture", "app.accounts", "values", "--slot", database.name],
            environment: environment
        )
        #expect(capture.status == 0, "\(capture.stderr)")
        let (service, port) = try listeningService(database)
        try database.execute("INSERT INTO app.accounts SELECT g, g FROM generate_series(1, 23) g")
        try database.execute("UPDATE app.accounts SET balance = balance * 10 WHERE id <= 5")
        try database.execute("INSERT INTO app.tags VALUES ('a', 1), ('b', 2)")
        try database.heartbeatUntilEveryWindowCloses("the windows close", service: service)
        let row = try #require(
            try database.connection.query(
                """
                SELECT to_char(w.window_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS+00:00'),
                       to_char(w.window_end AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS+00:00')
                  FROM daybook.windows w JOIN daybook.table_windows t USING (slot_name, window_start)
                 WHERE w.slot_name = $1 AND t.table_name = 'app.accounts' AND w.status = 'closed'
                 ORDER BY t.inserts DESC LIMIT 1
                """,
                [database.name]
            ).rows.first
        )
        return (service, port, row[0] ?? "", row[1] ?? "")
    }

    @Test func theAPIServesWhatTheCommandLinePrints() throws {
        let database = try TestDatabase("api_same")
        let (service, port, start, end) = try closedDay(database)
        defer { _ = service.stop() }
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        func cli(_ arguments: [String]) throws -> [Any] {
            let result = try DaybookProcess.run(
                arguments + ["--slot", database.name, "--format", "json"],
                environment: environment
            )
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return try result.stdout.split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8))
            }
        }
        func api(_ path: String) throws -> [String: Any] {
            let answer: HTTPAnswer
            do {
                answer = try httpGet(port: port, path: path)
            } catch {
                // What the service was doing meanwhile (a request once went unanswered for 30 s
                // in the version matrix).
                Issue.record("\(error); the service's log ends: \(service.stderr.suffix(4000))")
                throw error
            }
            #expect(answer.status == 200, "\(path): \(answer.body)")
            #expect(answer.headers["Cache-Control"] == "no-store")
            return try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
        }
        /// The same JSON value: compared as canonical text (sorted keys).
        func same(_ a: Any, _ b: Any) -> Bool {
            func text(_ value: Any) -> Data? {
                try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys])
            }
            return text(a) != nil && text(a) == text(b)
        }
        let window = start.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!

        // Status: the same object as `daybook status --format json`, but for what ages.
        let status = try api("/api/v1/status")
        let printed = try #require(try cli(["status"]).first as? [String: Any])
        for field in ["slot", "closed_windows", "open_windows", "capture_levels", "last_closed_window_end"] {
            #expect(same(status[field] ?? NSNull(), printed[field] ?? NSNull()), "status.\(field)")
        }
        // The checkpoint itself may move between the two calls (an idle stream is confirmed up to
        // the server's WAL end): its settings may not.
        for field in ["window_length", "grace", "time_zone"] {
            #expect(
                same(
                    (status["checkpoint"] as? [String: Any])?[field] ?? 0,
                    (printed["checkpoint"] as? [String: Any])?[field] ?? 1
                )
            )
        }

        // Windows, a window's tables, its keys (paged), its top keys, a key's events.
        #expect(
            same(
                try api("/api/v1/windows?from=\(window)")["items"]!,
                try cli(["report", "--windows", "--from", start])
            )
        )
        #expect(
            same(
                try api("/api/v1/windows/\(window)/tables")["items"]!,
                try cli(["report", "--from", start, "--to", end, "--include-open"])
            )
        )
        var keys: [Any] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try api("/api/v1/windows/\(window)/keys?limit=7" + (cursor.map { "&cursor=\($0)" } ?? ""))
            keys += page["items"] as? [Any] ?? []
            cursor = page["next_cursor"] as? String
            pages += 1
        } while cursor != nil && pages < 20
        let allKeys = try cli(["report", "--keys", "--from", start, "--to", end, "--include-open"])
        #expect(allKeys.count == 25, "23 accounts and 2 tags")
        #expect(pages == 4, "25 keys in pages of 7")
        #expect(same(keys, allKeys))
        #expect(
            same(
                try api("/api/v1/windows/\(window)/keys?top=2")["items"]!,
                try cli(["report", "--top", "2", "--from", start, "--to", end, "--include-open"])
            )
        )
        let key = #"{"id":"3"}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let events =
            try api("/api/v1/windows/\(window)/events?table=app.accounts&key=\(key)")["items"] as? [[String: Any]]
        let printedEvents = try cli(["report", "--events", "--table", "app.accounts", "--from", start, "--to", end])
            .compactMap { $0 as? [String: Any] }.filter { ($0["key"] as? [String: String])?["id"] == "3" }
        #expect(events?.count == 1)
        #expect(same(events ?? [], printedEvents))
        #expect((events?.first?["events"] as? [Any])?.count == 2, "inserted, then updated")

        // Wrong parameters: what is wrong, never a 500.
        for (path, status) in [
            ("/api/v1/windows/\(window)/keys?top=0", 400), ("/api/v1/windows/\(window)/keys?limit=abc", 400),
            ("/api/v1/windows/\(window)/keys?cursor=bm90LW91cnM", 404), ("/api/v1/windows/1999-01-01/tables", 404),
            ("/api/v1/windows/\(window)/events?table=app.accounts", 400), ("/api/v1/windows?from=someday", 400),
            ("/api/v1/windows/\(window)/events?table=app.accounts&key=%7B%22id%22%3A%22999%22%7D", 404),
        ] {
            let answer = try httpGet(port: port, path: path)
            #expect(answer.status == status, "\(path): \(answer.status) \(answer.body)")
            #expect(answer.body.contains("\"error\":"), "\(path): \(answer.body)")
        }
        #expect(try httpRequest(port: port, path: "/api/v1/status", method: "POST").status == 405)
        #expect(!(try httpGet(port: port, path: "/api/v1/status").body.contains(database.connectionString)))
        // None of that touched the stream: a change still arrives.
        try database.execute("INSERT INTO app.tags VALUES ('after', 1)")
        try waitUntil("the stream goes on", log: service) {
            try database.scalar(
                "SELECT sum(inserts) FROM daybook.table_windows WHERE slot_name = $1 AND table_name = 'app.tags'",
                [database.name]
            )
                == "3"
        }
        #expect(service.isRunning)
    }

    @Test func schemathesisFindsNoServerErrorAndNoAnswerOutsideTheDocument() throws {
        let database = try TestDatabase("api_fuzz")
        let (service, _, start, _) = try closedDay(database)
        #expect(service.stop() == 0)
        let port = try freePort()
        let serve = try DaybookProcess(
            ["serve", "--slot", database.name, "--listen", "127.0.0.1:\(port)"],
            environment: ["DAYBOOK_DATABASE": database.connectionString]
        )
        defer { _ = serve.stop() }
        try waitUntil("serve listens", log: serve) { serve.stderr.contains("serving HTTP") }

        let schemathesis = try schemathesisPath()
        let url = "http://127.0.0.1:\(port)/api/v1/openapi.json"
        let arguments = ["run", url, "--checks", "all", "--max-examples", "25", "--seed", "20261202", "--no-color"]
        // Once with any start at all, once with the real window's start (its keys, tables, events).
        let anyStart = try runTool(schemathesis, arguments)
        #expect(anyStart.status == 0, "schemathesis:\n\(anyStart.output.suffix(4000))")
        #expect(anyStart.output.contains(" passed"), "\(anyStart.output.suffix(2000))")
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("schemathesis-\(port).toml")
        try Data("[parameters]\n\"path.start\" = \"\(start)\"\n\"query.table\" = \"app.accounts\"\n".utf8).write(
            to: config
        )
        defer { try? FileManager.default.removeItem(at: config) }
        let realStart = try runTool(schemathesis, ["--config-file", config.path] + arguments)
        #expect(realStart.status == 0, "schemathesis with the window's start:\n\(realStart.output.suffix(4000))")
        #expect(serve.isRunning)
    }
}

/// schemathesis as `scripts/install-dependencies` installs it.
func schemathesisPath() throws -> String { try pythonTool("schemathesis") }

/// A program of the project's Python tools (`.tools/python/bin`, made by
/// `scripts/install-dependencies`).
func pythonTool(_ name: String) throws -> String {
    var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while folder.path != "/" {
        let candidate = folder.appendingPathComponent(".tools/python/bin/\(name)")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
        folder.deleteLastPathComponent()
    }
    throw SupportError("\(name) not found: run scripts/install-dependencies (it installs it into .tools/python)")
}
