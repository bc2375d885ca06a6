import DaybookTestSupport
import Foundation
import Testing

/// What a hostile probe of the HTTP side found, each as a test against a real `run --listen`
/// or `serve`: malformed input answered 400 in Daybook's words (never a server's error text),
/// HEAD on every GET route, a foreign `Host` refused without a token, no secret in the log at
/// `trace`, and a sink that refuses the login not described to clients.
@Suite(.serialized)
struct HTTPHardeningTests {
    /// What no answer may show: a server's error text, its statement's parameters, or where the
    /// sink is and who logs in.
    private static func leaks(_ body: String) -> [String] {
        var found = ["ERROR:", "SQLSTATE", "CONTEXT:", "unnamed portal", "invalid input syntax"].filter {
            body.contains($0)
        }
        if body.range(of: #"\$[0-9]"#, options: .regularExpression) != nil { found.append("a $n parameter") }
        return found
    }

    private static func encoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    /// A cursor as the API hands them out (URL-safe base64 of its JSON), with fields of our choosing.
    private static func cursor(windowStart: String, firstChangeAt: String, key: String = #"{"id":"1"}"#) -> String {
        let object = [
            "window_start": windowStart, "table": "app.accounts", "first_change_at": firstChangeAt, "key": key,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/",
            with: "_"
        )
        .replacingOccurrences(of: "=", with: "")
    }

    @Test func hostileRequestsGetClearAnswersAndHEADWorksEverywhere() throws {
        let database = try TestDatabase("http_hostile")
        try Workload.prepare(database)
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let capture = try DaybookProcess.run(
            ["capture", "app.accounts", "values", "--slot", database.name],
            environment: environment
        )
        #expect(capture.status == 0, "\(capture.stderr)")
        let (service, port) = try listeningService(database)
        defer { _ = service.stop() }
        try database.execute("INSERT INTO app.accounts SELECT g, g FROM generate_series(1, 5) g")
        try database.heartbeatUntilEveryWindowCloses("the windows close", service: service)
        let start = try #require(
            try database.scalar(
                """
                SELECT to_char(w.window_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS+00:00')
                  FROM daybook.windows w JOIN daybook.table_windows t USING (slot_name, window_start)
                 WHERE w.slot_name = $1 AND t.table_name = 'app.accounts' AND w.status = 'closed' LIMIT 1
                """,
                [database.name]
            )
        )
        let window = Self.encoded(start)
        let stored = "2026-12-01 00:00:00+00"

        // Malformed input of every class, on the API and the dashboard: 400, in Daybook's words.
        let malformed: [String] = [
            // Dates PostgreSQL reads but the contract does not, and dates that are none.
            "/api/v1/windows?from=epoch", "/api/v1/windows?from=J2461011", "/api/v1/windows?from=yesterday%27",
            "/api/v1/windows?from=2026-13-01", "/api/v1/windows?to=2026-02-30", "/api/v1/windows/epoch/tables",
            "/api/v1/windows/2026-02-30/keys", "/api/v1/windows/someday/events?table=app.accounts&key=%7B%7D",
            "/windows/epoch", "/windows/2026-13-01",
            // NUL: refused, not cut off.
            "/api/v1/windows/\(window)/tables?table=app.accounts%00", "/api/v1/windows/%00/tables",
            "/api/v1/windows/\(window)/keys?table=app.accounts%00x",
            "/windows/\(window)/key?table=app.accounts%00&key=%7B%7D",
            // Tampered cursors: each field.
            "/api/v1/windows/\(window)/keys?cursor=" + Self.cursor(windowStart: "not a date", firstChangeAt: stored),
            "/api/v1/windows/\(window)/keys?cursor=" + Self.cursor(windowStart: stored, firstChangeAt: ""),
            "/api/v1/windows/\(window)/keys?cursor="
                + Self.cursor(windowStart: stored, firstChangeAt: "2026-13-01 00:00:00+00"),
            "/api/v1/windows/\(window)/keys?cursor="
                + Self.cursor(windowStart: "2026-02-30 00:00:00+00", firstChangeAt: stored),
            "/api/v1/windows/\(window)/keys?cursor="
                + Self.cursor(windowStart: stored, firstChangeAt: stored, key: #"{"id":"\u0000"}"#),
            // Keys PostgreSQL cannot read as jsonb: \u0000 and lone surrogates.
            "/api/v1/windows/\(window)/events?table=app.accounts&key=" + Self.encoded(#"{"id":"\u0000"}"#),
            "/api/v1/windows/\(window)/events?table=app.accounts&key=" + Self.encoded(#"{"id":"\ud800"}"#),
            "/api/v1/windows/\(window)/events?table=app.accounts&key=%7B%22id%22%3A%22%00%22%7D",
            "/windows/\(window)/key?table=app.accounts&key=" + Self.encoded(#"{"id":"\u0000"}"#),
            "/windows/\(window)/key?table=app.accounts&key=" + Self.encoded(#"{"id":"\udc00"}"#),
        ]
        for path in malformed {
            let answer = try RawHTTP.request(port: port, path: path)
            #expect(answer.status == 400, "\(path): \(answer.status) \(answer.body.prefix(300))")
            #expect(
                Self.leaks(answer.body).isEmpty,
                "\(path): \(Self.leaks(answer.body)) in \(answer.body.prefix(300))"
            )
            #expect(answer.headers["x-content-type-options"] == "nosniff", "\(path): security headers")
        }
        // Too long for the HTTP parser: refused before the application, with the same headers.
        for answer in [
            try RawHTTP.request(port: port, path: "/api/v1/windows?from=" + String(repeating: "9", count: 100_000)),
            try RawHTTP.request(
                port: port,
                path: "/api/v1/status",
                headers: ["X-Long": String(repeating: "a", count: 100_000)]
            ),
        ] {
            #expect(answer.status == 400 || answer.status == 431, "a 100 kB request: \(answer.status)")
            #expect(answer.headers["x-content-type-options"] == "nosniff", "a 100 kB request: \(answer.headers)")
            #expect(answer.headers["content-security-policy"] != nil)
        }
        // What is well formed but not there is still 404.
        #expect(try RawHTTP.request(port: port, path: "/api/v1/windows/1999-01-01/tables").status == 404)
        #expect(
            try RawHTTP.request(port: port, path: "/api/v1/windows/\(window)/keys?cursor=bm90LW91cnM").status == 404
        )

        // HEAD on every GET route: GET's status and headers, without the body.
        let key = Self.encoded(#"{"id":"3"}"#)
        for path in [
            "/healthz", "/readyz", "/metrics", "/api/v1/openapi.json", "/api/v1/status", "/api/v1/windows",
            "/api/v1/windows/\(window)/tables", "/api/v1/windows/\(window)/keys?limit=2",
            "/api/v1/windows/\(window)/keys?top=1",
            "/api/v1/windows/\(window)/events?table=app.accounts&key=\(key)", "/", "/windows/\(window)",
            "/windows/\(window)/key?table=app.accounts&key=\(key)", "/assets/dashboard.css", "/assets/dashboard.js",
        ] {
            let get = try RawHTTP.request(port: port, path: path)
            let head = try RawHTTP.request(port: port, method: "HEAD", path: path)
            #expect(get.status == 200, "GET \(path): \(get.status) \(get.body.prefix(200))")
            #expect(head.status == get.status, "HEAD \(path): \(head.status)")
            #expect(head.body.isEmpty, "HEAD \(path) has a body")
            for header in ["content-type", "content-security-policy", "x-content-type-options", "cache-control"] {
                #expect(head.headers[header] == get.headers[header], "HEAD \(path): \(header)")
            }
        }

        // Without a token, only requests addressed to this machine are answered (DNS rebinding).
        for host in ["evil.example", "evil.example:\(port)", "localhost.evil.example:\(port)", "10.0.0.1:\(port)"] {
            let answer = try RawHTTP.request(port: port, path: "/api/v1/status", host: host)
            #expect(answer.status == 403, "Host \(host): \(answer.status)")
            #expect(!answer.body.contains("\"slot\""), "Host \(host): the status leaked")
        }
        for host in ["localhost:\(port)", "127.0.0.1:\(port)", "[::1]:\(port)", "LOCALHOST"] {
            #expect(try RawHTTP.request(port: port, path: "/api/v1/status", host: host).status == 200, "Host \(host)")
        }
        // None of it touched the stream.
        try database.execute("INSERT INTO app.tags VALUES ('after', 1)")
        try waitUntil("the stream goes on", log: service) {
            try database.scalar(
                "SELECT sum(inserts) FROM daybook.table_windows WHERE slot_name = $1 AND table_name = 'app.tags'",
                [database.name]
            )
                == "1"
        }
    }

    @Test func noSecretReachesTheLogAtTrace() throws {
        let database = try TestDatabase("http_secret")
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        #expect(try DaybookProcess.run(["migrate"], environment: environment).status == 0)
        let token = "s3cr3t-" + UUID().uuidString
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "daybook-token-\(UUID().uuidString)"
        )
        try token.write(to: tokenFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: tokenFile) }
        let port = try freePort()
        let serve = try DaybookProcess(
            [
                "serve", "--slot", database.name, "--listen", "127.0.0.1:\(port)", "--auth-token-file", tokenFile.path,
                "--log-level", "trace",
            ],
            environment: environment
        )
        try waitUntil("daybook serves HTTP", log: serve) { serve.stderr.contains("serving HTTP") }
        #expect(try RawHTTP.request(port: port, path: "/api/v1/status").status == 401)
        #expect(
            try RawHTTP.request(port: port, path: "/api/v1/status", headers: ["Authorization": "bearer \(token)"])
                .status == 200
        )
        #expect(
            try RawHTTP.request(port: port, path: "/api/v1/status", headers: ["Authorization": "BEARER \(token)"])
                .status == 200
        )
        // With a token, the Host is the caller's business (the listener may sit behind a proxy).
        #expect(
            try RawHTTP.request(
                port: port,
                path: "/api/v1/status",
                host: "daybook.example",
                headers: ["Authorization": "Bearer \(token)"]
            ).status == 200
        )
        #expect(serve.stop() == 0)
        let log = serve.stderr
        #expect(log.contains("DaybookHTTPServer"), "trace logs the services it starts")
        #expect(!log.contains(token), "the token is in the log")
        #expect(
            !log.contains(Array(token.utf8).prefix(6).map(String.init).joined(separator: ", ")),
            "the token's bytes are in the log"
        )
        let password = try #require(database.connectionString.split(separator: " ").first { $0.hasPrefix("password=") })
        #expect(!log.contains(password.dropFirst("password=".count)), "the password is in the log")
    }

    @Test func aSinkThatRefusesTheLoginIsNotDescribedToClients() throws {
        let database = try TestDatabase("http_refused")
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        #expect(try DaybookProcess.run(["migrate"], environment: environment).status == 0)
        let wrong = database.connectionString.split(separator: " ").map {
            $0.hasPrefix("password=") ? "password=wrong-password" : String($0)
        }
        .joined(separator: " ")
        let port = try freePort()
        let serve = try DaybookProcess(
            ["serve", "--slot", database.name, "--sink", wrong, "--listen", "127.0.0.1:\(port)"],
            environment: environment
        )
        defer { _ = serve.stop() }
        try waitUntil("daybook serves HTTP", log: serve) { serve.stderr.contains("serving HTTP") }
        let serverPort = try #require(
            database.connectionString.split(separator: " ").first { $0.hasPrefix("port=") }?.dropFirst(5)
        )
        for path in ["/readyz", "/api/v1/windows", "/api/v1/status", "/"] {
            let answer = try RawHTTP.request(port: port, path: path)
            #expect(answer.status == 503, "\(path): \(answer.status)")
            for detail in ["127.0.0.1", String(serverPort), "postgres", "wrong-password", "password"] {
                #expect(!answer.body.contains(detail), "\(path) shows \(detail): \(answer.body.prefix(300))")
            }
        }
        #expect(try RawHTTP.request(port: port, path: "/readyz").body.contains("refused Daybook's login"))
    }
}
