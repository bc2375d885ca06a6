import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `daybook run --listen`: metrics scraped by a real Prometheus, the token rules, and
/// readiness following the source.
@Suite(.serialized)
struct HTTPSurfaceTests {
    @Test func prometheusScrapesTheChangeCountsAndPromtoolAcceptsTheExposition() throws {
        let database = try TestDatabase("http_metrics")
        try Workload.prepare(database)
        let (service, port) = try listeningService(database)
        defer { _ = service.stop() }

        for id in 1...30 { try database.execute("INSERT INTO app.accounts VALUES (\(id), \(id))") }
        try database.execute("UPDATE app.accounts SET balance = balance + 1 WHERE id <= 12")
        try database.execute("DELETE FROM app.accounts WHERE id > 25")

        let prometheus = try PrometheusServer(scraping: port)
        defer { prometheus.stop() }
        let expected: [String: String] = ["insert": "30", "update": "12", "delete": "5"]
        for (operation, count) in expected {
            try waitUntil("Prometheus has the \(operation)s of app.accounts", timeout: .seconds(90), log: service) {
                try prometheus.query("daybook_changes_total{table=\"app.accounts\",operation=\"\(operation)\"}")
                    == count
            }
        }
        #expect(try prometheus.query("daybook_streaming") == "1")
        #expect(try prometheus.query("daybook_checkpoints_total > 0") != nil)
        #expect(try prometheus.query("process_resident_memory_bytes > 1000000") != nil)

        let exposition = try httpGet(port: port, path: "/metrics")
        #expect(exposition.status == 200)
        #expect(exposition.headers["Cache-Control"] == "no-store")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("daybook-metrics-\(port).txt")
        try Data(exposition.body.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let check = try runTool("promtool", ["check", "metrics"], stdin: file)
        #expect(check.status == 0, "promtool check metrics: \(check.output)")
        #expect(!exposition.body.contains(database.connectionString))
    }

    @Test func aNonLoopbackAddressNeedsATokenAndRequestsWithoutItGet401() throws {
        let database = try TestDatabase("http_auth")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let port = try freePort()

        let refused = try DaybookProcess.run(
            Workload.runArguments(database, extra: ["--listen", "0.0.0.0:\(port)"]),
            environment: environment
        )
        #expect(refused.status == 64 || refused.status == 2, "exit \(refused.status)")
        #expect(refused.stderr.contains("--auth-token-file"), "\(refused.stderr)")

        let token = "tok-" + UUID().uuidString + UUID().uuidString
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("daybook-token-\(port)")
        try Data((token + "\n").utf8).write(to: tokenFile)
        defer { try? FileManager.default.removeItem(at: tokenFile) }
        let service = try DaybookProcess(
            Workload.runArguments(
                database,
                extra: ["--listen", "0.0.0.0:\(port)", "--auth-token-file", tokenFile.path]
            ),
            environment: environment
        )
        defer { _ = service.stop() }
        try waitUntil("daybook serves HTTP", log: service) { service.stderr.contains("serving HTTP") }

        #expect(try httpGet(port: port, path: "/metrics").status == 401)
        #expect(try httpGet(port: port, path: "/metrics", token: "wrong" + token).status == 401)
        #expect(try httpGet(port: port, path: "/metrics", token: String(token.dropLast())).status == 401)
        #expect(try httpGet(port: port, path: "/readyz").status == 401)
        let scraped = try httpGet(port: port, path: "/metrics", token: token)
        #expect(scraped.status == 200)
        #expect(scraped.body.contains("daybook_streaming"))
        #expect(try httpGet(port: port, path: "/healthz").status == 200, "liveness needs no token")
        #expect(!service.stderr.contains(token), "the token never reaches the log")

        let unreadable = try DaybookProcess.run(
            Workload.runArguments(
                database,
                extra: ["--listen", "127.0.0.1:\(port)", "--auth-token-file", "/nonexistent/token"]
            ),
            environment: environment
        )
        #expect(unreadable.status != 0)
        #expect(unreadable.stderr.contains("cannot read the token file"), "\(unreadable.stderr)")

        let badAddress = try DaybookProcess.run(
            Workload.runArguments(database, extra: ["--listen", "localhost"]),
            environment: environment
        )
        #expect(badAddress.status != 0)
        #expect(badAddress.stderr.contains("HOST:PORT"), "\(badAddress.stderr)")
    }

    @Test func aPortInUseEndsTheRunWithAClearMessage() throws {
        let database = try TestDatabase("http_port")
        try Workload.prepare(database)
        let port = try freePort()
        let first = try DaybookProcess(
            ["run", "--slot", database.name, "--listen", "127.0.0.1:\(port)"],
            environment: ["DAYBOOK_DATABASE": database.connectionString]
        )
        defer { _ = first.stop() }
        try waitUntil("the first daybook serves HTTP", log: first) { first.stderr.contains("serving HTTP") }
        // Another process on the same port: a different slot, so only the port collides.
        try database.execute("SELECT pg_create_logical_replication_slot('\(database.name)_2', 'pgoutput')")
        let collided = try DaybookProcess.run(
            ["run", "--slot", "\(database.name)_2", "--listen", "127.0.0.1:\(port)"],
            environment: ["DAYBOOK_DATABASE": database.connectionString]
        )
        #expect(collided.status != 0)
        #expect(collided.stderr.contains("cannot listen on 127.0.0.1:\(port)"), "\(collided.stderr)")
        #expect(first.isRunning, "the first service is untouched")
    }

    @Test func readinessFollowsTheSourceConnection() throws {
        let database = try TestDatabase("http_ready")
        try Workload.prepare(database)
        let (service, port) = try listeningService(database)
        defer { _ = service.stop() }
        try waitUntil("ready", log: service) { (try? httpGet(port: port, path: "/readyz").status) == 200 }
        #expect(try httpGet(port: port, path: "/readyz").body.contains("\"ready\":true"))

        // Each terminated walsender makes Daybook wait at least a second before reconnecting.
        var sawUnready: HTTPAnswer?
        try waitUntil("unready while the source is away", timeout: .seconds(30), every: .milliseconds(50), log: service)
        {
            try database.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_replication WHERE application_name = 'daybook'"
            )
            let answer = try httpGet(port: port, path: "/readyz")
            if answer.status == 503 { sawUnready = answer }
            return sawUnready != nil
        }
        #expect(sawUnready?.body.contains("reconnecting") == true, "\(sawUnready?.body ?? "")")
        #expect(try httpGet(port: port, path: "/healthz").status == 200, "alive while reconnecting")
        try waitUntil("ready again once the source is back", log: service) {
            (try? httpGet(port: port, path: "/readyz").status) == 200
        }
    }
}

extension HTTPSurfaceTests {
    @Test func serveReportsTheSinksFiguresReadOnly() throws {
        let database = try TestDatabase("http_serve")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        for id in 1...5 { try database.execute("INSERT INTO app.accounts VALUES (\(id), 0)") }
        try database.heartbeatUntilEveryWindowCloses("the windows close", service: service)
        #expect(service.stop() == 0)
        let closed = try #require(
            try database.scalar(
                "SELECT count(*) FROM daybook.windows WHERE slot_name = $1 AND status = 'closed'",
                [database.name]
            )
        )

        // A role that may only read the sink, as the README documents.
        let viewer = "viewer_\(database.name)"
        try database.execute("CREATE ROLE \(viewer) LOGIN PASSWORD 'viewer-secret'")
        try database.execute("GRANT USAGE ON SCHEMA daybook TO \(viewer)")
        try database.execute("GRANT SELECT ON ALL TABLES IN SCHEMA daybook TO \(viewer)")
        let port = try freePort()
        let serve = try DaybookProcess(
            ["serve", "--slot", database.name, "--listen", "127.0.0.1:\(port)"],
            environment: ["DAYBOOK_DATABASE": database.connectionString + " user=\(viewer) password=viewer-secret"]
        )
        defer { _ = serve.stop() }
        try waitUntil("serve listens", log: serve) { serve.stderr.contains("serving HTTP") }
        #expect(try httpGet(port: port, path: "/readyz").status == 200)
        let metrics = try httpGet(port: port, path: "/metrics").body
        let closedSeries = metrics.split(separator: "\n").filter { $0.hasPrefix("daybook_windows_closed_total{") }
        let total = closedSeries.compactMap { Int($0.split(separator: " ").last ?? "") }.reduce(0, +)
        #expect("\(total)" == closed, "\(closedSeries)")
        #expect(metrics.contains("daybook_checkpoint_lsn "))
        #expect(metrics.contains("daybook_stream_time_seconds "))
        #expect(metrics.contains("daybook_windows_open 0"))
        #expect(!metrics.contains("viewer-secret"))
        // Scraped again: the totals stay totals.
        #expect(try httpGet(port: port, path: "/metrics").body.contains(closedSeries.first.map(String.init) ?? "-"))

        // A sink that is not there: not ready, with a reason and no connection string.
        let otherPort = try freePort()
        let lost = try DaybookProcess(
            [
                "serve", "--slot", database.name, "--listen", "127.0.0.1:\(otherPort)", "--sink",
                "host=127.0.0.1 port=1 dbname=nowhere password=hunter2-secret",
            ],
            environment: environment
        )
        defer { _ = lost.stop() }
        try waitUntil("the second serve listens", log: lost) { lost.stderr.contains("serving HTTP") }
        let unready = try httpGet(port: otherPort, path: "/readyz")
        #expect(unready.status == 503)
        #expect(unready.body.contains("sink"), "\(unready.body)")
        #expect(!unready.body.contains("hunter2-secret"))
        #expect(try httpGet(port: otherPort, path: "/healthz").status == 200)
    }
}

// MARK: - Helpers

/// `daybook run --listen` on a free loopback port for a prepared database, once it serves.
func listeningService(_ database: TestDatabase, extra: [String] = []) throws -> (service: DaybookProcess, port: Int) {
    let port = try freePort()
    let service = try DaybookProcess(
        Workload.runArguments(database, extra: ["--listen", "127.0.0.1:\(port)"] + extra),
        environment: ["DAYBOOK_DATABASE": database.connectionString]
    )
    try waitUntil("daybook serves HTTP", log: service) { service.stderr.contains("serving HTTP") }
    return (service, port)
}

/// A script of `Tests/Browser` run by the project's Python (Selenium), its output in a file
/// the test reads while it runs.
final class BrowserScript {
    let process = Process()
    let output: URL

    init(_ name: String, _ arguments: [String]) throws {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "daybook-\(name)-\(UUID().uuidString).out"
        )
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: try pythonTool("python"))
        process.arguments = [tests.appendingPathComponent("Browser/\(name)").path] + arguments
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: output)
        try process.run()
    }

    /// What it printed so far.
    var said: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
    var isRunning: Bool { process.isRunning }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: output)
    }
}

struct HTTPAnswer {
    var status: Int
    var headers: [String: String]
    var body: String
}

/// One GET on loopback, with an optional bearer token.
func httpGet(port: Int, path: String, token: String? = nil) throws -> HTTPAnswer {
    try httpRequest(port: port, path: path, method: "GET", token: token)
}

func httpRequest(port: Int, path: String, method: String, token: String? = nil) throws -> HTTPAnswer {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    request.httpMethod = method
    // Generous, as every wait of the tests: the version matrix runs two servers side by side.
    request.timeoutInterval = 30
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var answer: Result<HTTPAnswer, any Error> = .failure(SupportError("no answer from \(path)"))
    URLSession.shared.dataTask(with: request) { data, response, error in
        if let error {
            // Which request failed: URLError's own text names neither the path nor the method.
            answer = .failure(SupportError("\(method) \(path) got no answer: \(error)"))
        } else if let response = response as? HTTPURLResponse {
            var headers: [String: String] = [:]
            for (name, value) in response.allHeaderFields { headers["\(name)"] = "\(value)" }
            answer = .success(
                HTTPAnswer(
                    status: response.statusCode,
                    headers: headers,
                    body: String(decoding: data ?? Data(), as: UTF8.self)
                )
            )
        }
        done.signal()
    }.resume()
    done.wait()
    return try answer.get()
}

/// Runs a tool found on PATH, with a file as its input.
func runTool(_ name: String, _ arguments: [String], stdin: URL? = nil) throws -> (status: Int32, output: String) {
    try runProgram(URL(fileURLWithPath: "/usr/bin/env"), [name] + arguments, stdin: stdin)
}

/// Runs a program to its end: its exit status and its stdout and stderr together.
func runProgram(
    _ executable: URL,
    _ arguments: [String],
    environment: [String: String]? = nil,
    stdin: URL? = nil
) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let stdin { process.standardInput = try FileHandle(forReadingFrom: stdin) }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}

/// A real Prometheus (Debian's `prometheus`) scraping one target every second, with its data
/// in a temporary folder.
final class PrometheusServer {
    let port: Int
    private let process = Process()
    private let directory: URL

    init(scraping target: Int) throws {
        port = try freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "daybook-prometheus-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: daybook
                static_configs:
                  - targets: ['127.0.0.1:\(target)']
            """
        try Data(config.utf8).write(to: directory.appendingPathComponent("prometheus.yml"))
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "prometheus", "--config.file=\(directory.path)/prometheus.yml",
            "--storage.tsdb.path=\(directory.path)/data",
            "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
        ]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        try waitUntil("Prometheus is up") { (try? httpGet(port: port, path: "/-/ready").status) == 200 }
    }

    /// The value of an instant query's first result, nil when it has none.
    func query(_ expression: String) throws -> String? {
        let escaped = expression.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? expression
        let answer = try httpGet(port: port, path: "/api/v1/query?query=\(escaped)")
        guard answer.status == 200,
            let object = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any],
            let data = object["data"] as? [String: Any], let result = data["result"] as? [[String: Any]],
            let value = result.first?["value"] as? [Any], value.count == 2
        else { return nil }
        return value[1] as? String
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
