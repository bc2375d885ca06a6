import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// Closed days delivered to a real HTTP receiver (`Tests/Receivers/webhook-receiver.py`, which
/// checks every signature as the README shows): retried after errors with the same id, given
/// up after a rejected signature, never holding up the stream.
@Suite(.serialized)
struct DeliveryTests {
    /// The HTTP receiver (`Tests/Receivers/webhook-receiver.py`): 500 to the first `fail` good
    /// requests, never an answer to the first `hang` after those, 200 to the rest, 401 to a
    /// bad signature.
    static func receiver(secretFile: URL, fail: Int, hang: Int = 0, port: Int? = nil) throws -> TestReceiver {
        try TestReceiver(
            script: "webhook-receiver.py",
            arguments: ["--secret-file", secretFile.path, "--fail", String(fail), "--hang", String(hang)],
            port: port
        )
    }

    static func secretFile(_ text: String) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("daybook-secret-\(UUID().uuidString)")
        try Data((text + "\n").utf8).write(to: file)
        return file
    }

    @Test func aDayIsDeliveredOnceAcceptedAfterTwoErrorsAndARejectedSignatureIsGivenUp() throws {
        let database = try TestDatabase("delivery")
        try Workload.prepare(database)
        let daybook = ["DAYBOOK_DATABASE": database.connectionString, "DAYBOOK_SLOT": database.name]
        let secret = try Self.secretFile(String(repeating: "7f3a", count: 16))
        let wrongSecret = try Self.secretFile(String(repeating: "0b1c", count: 16))
        defer {
            try? FileManager.default.removeItem(at: secret)
            try? FileManager.default.removeItem(at: wrongSecret)
        }
        let receiver = try Self.receiver(secretFile: secret, fail: 2)
        // This receiver holds another secret: it must refuse every request (401).
        let strict = try Self.receiver(secretFile: wrongSecret, fail: 0)
        defer {
            receiver.stop()
            strict.stop()
        }

        // Bad input at `notify add`: one line, non-zero, nothing added.
        let missing = try DaybookProcess.run(
            ["notify", "add", "x", "--webhook", "http://127.0.0.1:9/", "--secret-file", "/nonexistent/secret"],
            environment: daybook
        )
        #expect(missing.status == 2 && missing.stderr.contains("does not exist"), "\(missing.stderr)")
        let short = try Self.secretFile("short")
        defer { try? FileManager.default.removeItem(at: short) }
        let tooShort = try DaybookProcess.run(
            ["notify", "add", "x", "--webhook", "http://127.0.0.1:9/", "--secret-file", short.path],
            environment: daybook
        )
        #expect(tooShort.status == 2 && tooShort.stderr.contains("use at least 32"), "\(tooShort.stderr)")
        let plain = try DaybookProcess.run(
            ["notify", "add", "x", "--webhook", "http://hooks.example.com/x", "--secret-file", secret.path],
            environment: daybook
        )
        #expect(plain.status == 64 && plain.stderr.contains("must use https"), "\(plain.stderr)")

        // A receiver whose certificate nobody vouches for (self-signed): TLS fails, the day
        // stays pending and says why.
        let certificate = FileManager.default.temporaryDirectory.appendingPathComponent(
            "daybook-tls-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: certificate, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: certificate) }
        let made = try runProgram(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1",
                "-keyout", certificate.appendingPathComponent("key.pem").path, "-out",
                certificate.appendingPathComponent("certificate.pem").path,
            ]
        )
        #expect(made.status == 0, "\(made.output)")
        let selfSigned = try TestReceiver(
            script: "webhook-receiver.py",
            arguments: [
                "--secret-file", secret.path, "--certificate",
                certificate.appendingPathComponent("certificate.pem").path,
                "--key", certificate.appendingPathComponent("key.pem").path,
            ]
        )
        defer { selfSigned.stop() }
        let tls = try DaybookProcess.run(
            [
                "notify", "add", "tls", "--webhook", "https://127.0.0.1:\(selfSigned.port)/", "--secret-file",
                secret.path,
            ],
            environment: daybook
        )
        #expect(tls.status == 0, "\(tls.stderr)")
        for (name, port, file) in [("team", receiver.port, secret), ("strict", strict.port, secret)] {
            let added = try DaybookProcess.run(
                ["notify", "add", name, "--webhook", "http://127.0.0.1:\(port)/daybook", "--secret-file", file.path],
                environment: daybook
            )
            #expect(added.status == 0, "\(added.stderr)")
        }
        let service = try DaybookProcess(Workload.runArguments(database), environment: daybook)
        defer { _ = service.stop() }
        try database.execute("INSERT INTO app.accounts SELECT g, g FROM generate_series(1, 7) g")
        try database.heartbeatUntilEveryWindowCloses("the day closes", service: service)
        #expect(try database.scalar("SELECT count(*) FROM daybook.deliveries WHERE status = 'pending'") == "3")

        // `notify send` from cron, again and again: 500, 500, then 200.
        try waitUntil("the day is delivered and the rejected one given up", log: service) {
            let send = try DaybookProcess.run(["notify", "send", "--retry-base", "50ms"], environment: daybook)
            #expect(send.status == 0, "\(send.stderr)")
            return try database.scalar(
                "SELECT count(*) FROM daybook.deliveries WHERE status = 'pending' AND destination <> 'tls'"
            ) == "0"
        }
        let requests = receiver.records
        #expect(requests.map { $0["status"] as? Int } == [500, 500, 200])
        #expect(requests.allSatisfy { $0["verified"] as? Bool == true && $0["fresh"] as? Bool == true })
        let ids = Set(requests.compactMap { $0["id"] as? String })
        #expect(
            ids.count == 1 && ids.first?.hasPrefix("\(database.name)/") == true && ids.first?.hasSuffix("/team") == true
        )
        let attempts = try database.connection.query(
            """
            SELECT a.outcome, a.status_code::text FROM daybook.delivery_attempts a
              JOIN daybook.deliveries d ON d.id = a.delivery WHERE d.destination = 'team' ORDER BY a.attempted_at
            """
        ).rows
        #expect(attempts == [["retry", "500"], ["retry", "500"], ["delivered", "200"]])

        // What arrived is the digest `daybook digest` prints, with a text summary.
        let body = try #require(
            try JSONSerialization.jsonObject(with: Data((requests.last?["body"] as? String ?? "").utf8))
                as? [String: Any]
        )
        #expect(body["digest_version"] as? Int == 1)
        #expect((body["text"] as? String)?.hasPrefix("Daybook digest for ") == true, "\(body)")
        let headline = ((body["slots"] as? [[String: Any]])?.first?["headline"] as? [String: Any])
        #expect(headline?["changes"] as? Int == 7)

        // The receiver with another secret refused each attempt: the signature covers the body
        // and the secret. Daybook gave up after three (a 4xx) and says so.
        #expect(strict.records.count == 3)
        #expect(strict.records.allSatisfy { $0["verified"] as? Bool == false && $0["status"] as? Int == 401 })
        let list = try DaybookProcess.run(["notify", "list"], environment: daybook)
        #expect(list.stdout.contains("strict  webhook http://127.0.0.1:\(strict.port)/…"), "\(list.stdout)")
        #expect(list.stdout.contains("pending: 0; failed: 1; last error: HTTP 401"), "\(list.stdout)")
        #expect(
            list.stdout.contains("team  webhook") && list.stdout.contains("pending: 0; failed: 0"),
            "\(list.stdout)"
        )
        #expect(!list.stdout.contains("/daybook"), "the URL's path is not shown: \(list.stdout)")
        let tlsFailure = try database.connection.query(
            "SELECT status, last_error FROM daybook.deliveries WHERE destination = 'tls'"
        ).rows.first
        #expect(tlsFailure?[0] == "pending", "\(String(describing: tlsFailure))")
        #expect(tlsFailure?[1]?.hasPrefix("no answer: TLS failed") == true, "\(String(describing: tlsFailure))")
        #expect(selfSigned.records.isEmpty, "nothing was sent over a connection Daybook could not trust")

        // None of it touched the stream.
        try database.execute("INSERT INTO app.accounts VALUES (100, 1)")
        try waitUntil("the stream goes on", log: service) {
            try database.scalar(
                "SELECT sum(inserts) FROM daybook.table_windows WHERE table_name = 'app.accounts'"
            ) == "8"
        }
        let removed = try DaybookProcess.run(["notify", "remove", "strict"], environment: daybook)
        #expect(removed.status == 0)
        let again = try DaybookProcess.run(["notify", "remove", "strict"], environment: daybook)
        #expect(again.status == 64 && again.stderr.contains("no destination named strict"), "\(again.stderr)")
    }

    /// The sender inside `run`: a receiver down for three closed days gets them in order once it
    /// is up; the sink server crashing meanwhile loses none; SIGKILL while the receiver holds an
    /// accepted request (between the send and the record) repeats it with the same id, and
    /// SIGKILL between a close and its send delivers it after the restart. `status`, the API
    /// and /metrics show the destination throughout.
    @Test func theStreamsSenderDeliversInOrderThroughOutagesKillsAndASinkCrash() throws {
        let database = try TestDatabase("delivery_run")
        let servers = try ThrowawayServers()
        defer { servers.stopAll() }
        let sinkPort = try freePort()
        let sinkDirectory = try servers.start(port: sinkPort)
        let sinkString = ThrowawayServers.connectionString(port: sinkPort)
        let daybook = [
            "DAYBOOK_DATABASE": database.connectionString, "DAYBOOK_SINK": sinkString, "DAYBOOK_SLOT": database.name,
        ]
        try Workload.prepare(source: database.connection, environment: daybook, slot: database.name)
        let sink = { try PostgresConnection(ConnectionString(sinkString)) }
        func scalar(_ sql: String) throws -> String? { try sink().query(sql).scalar }
        let secret = try Self.secretFile(String(repeating: "5e9d", count: 16))
        defer { try? FileManager.default.removeItem(at: secret) }
        let receiverPort = try freePort()
        let added = try DaybookProcess.run(
            [
                "notify", "add", "team", "--webhook", "http://127.0.0.1:\(receiverPort)/hook", "--secret-file",
                secret.path,
            ],
            environment: daybook
        )
        #expect(added.status == 0, "\(added.stderr)")
        let listen = try freePort()
        let arguments = Workload.runArguments(
            database,
            extra: [
                "--deliver-every", "200ms", "--delivery-retry-base", "100ms", "--listen", "127.0.0.1:\(listen)",
            ]
        )
        var service = try DaybookProcess(arguments, environment: daybook)
        defer { _ = service.stop() }

        // Three days (windows) with changes, closed while the receiver is down.
        for id in 1...3 {
            if id > 1 { Thread.sleep(forTimeInterval: 2.1) }
            try database.execute("INSERT INTO app.accounts VALUES (\(id), \(id))")
        }
        try waitUntil("three days close, their deliveries pending and failing", log: service) {
            _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: daybook)
            return try scalar("SELECT count(*) FROM daybook.deliveries WHERE status = 'pending'") == "3"
                && scalar("SELECT count(*) FROM daybook.windows WHERE status <> 'closed'") == "0"
                && scalar("SELECT count(*) FROM daybook.delivery_attempts") != "0"
        }
        let status = try DaybookProcess.run(["status", "--format", "json"], environment: daybook)
        let destinations = try #require(
            (try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["destinations"]
                as? [[String: Any]]
        )
        #expect(destinations.first?["name"] as? String == "team")
        #expect(destinations.first?["pending"] as? Int == 3)
        #expect((destinations.first?["last_error"] as? String)?.hasPrefix("no answer") == true, "\(destinations)")
        #expect(destinations.first?["target"] as? String == "http://127.0.0.1:\(receiverPort)/…")
        #expect(!status.stdout.contains("/hook") && !status.stdout.contains(secret.path), "\(status.stdout)")
        let metrics = try httpGet(port: listen, path: "/metrics").body
        #expect(metrics.contains("daybook_deliveries_pending{destination=\"team\"} 3"), "\(metrics)")
        #expect(metrics.contains("daybook_deliveries_total{destination=\"team\",outcome=\"retry\"}"), "\(metrics)")

        // The sink server crashes and comes back: the outbox is committed state, nothing is lost.
        try servers.crash(sinkDirectory)
        Thread.sleep(forTimeInterval: 1)
        try servers.resume(sinkDirectory)
        #expect(try scalar("SELECT count(*) FROM daybook.deliveries WHERE status = 'pending'") == "3")

        // The receiver comes up and takes the first day, then holds it unanswered: Daybook is
        // killed between the receiver's acceptance and the sink's record.
        var receiver = try Self.receiver(secretFile: secret, fail: 0, hang: 1, port: receiverPort)
        defer { receiver.stop() }
        try waitUntil("the receiver holds the first day", timeout: .seconds(90), log: service) {
            receiver.records.count == 1
        }
        service.killHard()
        let held = receiver.records.first?["id"] as? String
        receiver.stop()
        receiver = try Self.receiver(secretFile: secret, fail: 0, port: receiverPort)
        service = try DaybookProcess(arguments, environment: daybook)
        try waitUntil("the three days are delivered", timeout: .seconds(90), log: service) {
            try scalar("SELECT count(*) FROM daybook.deliveries WHERE status = 'delivered'") == "3"
        }
        // The same id again for the first day (the one repeat), then the others, in order.
        let ids = try sink().query(
            "SELECT slot_name || '/' || to_char(window_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+00:00/team' FROM daybook.deliveries ORDER BY window_start"
        ).rows.map { $0[0] ?? "" }
        #expect(held == ids.first, "the repeat carries the held request's id")
        #expect(receiver.records.compactMap { $0["id"] as? String } == ids, "\(receiver.records)")
        #expect(receiver.records.allSatisfy { $0["verified"] as? Bool == true })

        // SIGKILL between a close and its send: a run that does not deliver closes a fourth day
        // and is killed; the next run delivers it.
        _ = service.stop()
        service = try DaybookProcess(arguments + ["--no-deliver"], environment: daybook)
        try database.execute("INSERT INTO app.accounts VALUES (4, 4)")
        try waitUntil("the fourth day closes", log: service) {
            _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: daybook)
            return try scalar("SELECT count(*) FROM daybook.deliveries WHERE status = 'pending'") == "1"
        }
        service.killHard()
        service = try DaybookProcess(arguments, environment: daybook)
        try waitUntil("the fourth day is delivered", log: service) {
            try scalar("SELECT count(*) FROM daybook.deliveries WHERE status = 'delivered'") == "4"
        }
        #expect(receiver.records.count == 4)
        let list = try DaybookProcess.run(["notify", "list"], environment: daybook)
        #expect(list.stdout.contains("pending: 0; failed: 0"), "\(list.stdout)")
    }
}
