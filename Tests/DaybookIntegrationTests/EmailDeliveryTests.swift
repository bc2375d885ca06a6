import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// Closed days emailed through msmtp to a real SMTP server (`Tests/Receivers/smtp-receiver.py`,
/// aiosmtpd from PyPI, with a login): the message Python's MIME parser reads is the digest
/// `daybook digest` prints, as text and HTML, with the delivery's Message-ID; a refused login
/// is given up after a few attempts and a TLS failure stays pending, both visible.
@Suite(.serialized)
struct EmailDeliveryTests {
    @Test func aClosedDayIsEmailedAsTheDigestWithItsMessageID() throws {
        let database = try TestDatabase("email")
        try Workload.prepare(database)
        let daybook = ["DAYBOOK_DATABASE": database.connectionString, "DAYBOOK_SLOT": database.name]
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("daybook-email-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let password = folder.appendingPathComponent("password")
        try Data("s3cret-for-mail\n".utf8).write(to: password)
        let wrongPassword = folder.appendingPathComponent("wrong")
        try Data("not-the-password\n".utf8).write(to: wrongPassword)
        let server = try TestReceiver(
            script: "smtp-receiver.py",
            python: try pythonTool("python"),
            arguments: ["--user", "daybook", "--password", "s3cret-for-mail"]
        )
        defer { server.stop() }
        let smtp = "127.0.0.1:\(server.port)"

        // Bad input at `notify add`: one line, non-zero, nothing added.
        let noServer = try DaybookProcess.run(
            ["notify", "add", "x", "--email", "ops@example.com", "--from", "daybook@example.com"],
            environment: daybook
        )
        #expect(noServer.status == 64 && noServer.stderr.contains("--email needs --smtp"), "\(noServer.stderr)")
        let clear = try DaybookProcess.run(
            [
                "notify", "add", "x", "--email", "ops@example.com", "--from", "daybook@example.com", "--smtp",
                "mail.example.com", "--smtp-security", "none", "--smtp-user", "u", "--smtp-password-file",
                password.path,
            ],
            environment: daybook
        )
        #expect(clear.status == 64 && clear.stderr.contains("password in the clear"), "\(clear.stderr)")
        let badAddress = try DaybookProcess.run(
            ["notify", "add", "x", "--email", "ops@example.com\nBcc: x@y", "--from", "d@example.com", "--smtp", smtp],
            environment: daybook
        )
        #expect(badAddress.status == 64 && badAddress.stderr.contains("not an email address"), "\(badAddress.stderr)")
        let missing = try DaybookProcess.run(
            [
                "notify", "add", "x", "--email", "ops@example.com", "--from", "d@example.com", "--smtp", smtp,
                "--smtp-user", "daybook", "--smtp-password-file", "/nonexistent/password",
            ],
            environment: daybook
        )
        #expect(missing.status == 2 && missing.stderr.contains("does not exist"), "\(missing.stderr)")

        let mail = [
            "notify", "add", "team", "--email", "ops@example.com", "--email", "dba@example.com", "--from",
            "daybook@example.com", "--smtp", smtp, "--smtp-user", "daybook", "--smtp-password-file", password.path,
            "--subject", "Daybook {date} ✓ {headline}",
        ]
        #expect(try DaybookProcess.run(mail, environment: daybook).status == 0)
        let refused = [
            "notify", "add", "badlogin", "--email", "ops@example.com", "--from", "daybook@example.com", "--smtp", smtp,
            "--smtp-user", "daybook", "--smtp-password-file", wrongPassword.path,
        ]
        #expect(try DaybookProcess.run(refused, environment: daybook).status == 0)
        // This server speaks no TLS: a destination that requires STARTTLS cannot send there.
        let tls = [
            "notify", "add", "tlsonly", "--email", "ops@example.com", "--from", "daybook@example.com", "--smtp", smtp,
            "--smtp-security", "starttls",
        ]
        #expect(try DaybookProcess.run(tls, environment: daybook).status == 0)

        let service = try DaybookProcess(Workload.runArguments(database, extra: ["--no-deliver"]), environment: daybook)
        defer { _ = service.stop() }
        try database.execute("INSERT INTO app.accounts SELECT g, g FROM generate_series(1, 5) g")
        try database.heartbeatUntilEveryWindowCloses("the day closes", service: service)
        try waitUntil("the day is emailed, the refused login given up", log: service) {
            _ = try DaybookProcess.run(["notify", "send", "--retry-base", "50ms"], environment: daybook)
            return try database.scalar(
                "SELECT count(*) FROM daybook.deliveries WHERE status = 'pending' AND destination <> 'tlsonly'"
            ) == "0"
        }
        #expect(server.records.count == 1)
        let message = try #require(server.records.first)
        #expect(message["mail_from"] as? String == "daybook@example.com")
        #expect(message["rcpt_tos"] as? [String] == ["ops@example.com", "dba@example.com"])
        #expect(message["content_type"] as? String == "multipart/alternative")
        #expect(message["auto_submitted"] as? String == "auto-generated")
        let window = try #require(
            try database.scalar(
                "SELECT to_char(window_start AT TIME ZONE 'UTC', 'YYYYMMDD\"T\"HH24MISS\"Z\"') FROM daybook.deliveries WHERE destination = 'team'"
            )
        )
        #expect(message["message_id"] as? String == "<\(database.name).\(window).team@daybook>")
        let subject = try #require(message["subject"] as? String)
        #expect(subject.hasPrefix("Daybook ") && subject.contains(" ✓ "), "\(subject)")

        // The parts are the digest as `daybook digest` renders it for that window.
        let start = try #require(
            try database.scalar("SELECT window_start::text FROM daybook.deliveries WHERE destination = 'team'")
        )
        let parts = try #require(message["parts"] as? [[String: Any]])
        #expect(parts.map { $0["type"] as? String } == ["text/plain", "text/html"])
        #expect(parts.allSatisfy { $0["charset"] as? String == "utf-8" })
        for (format, part) in zip(["text", "html"], parts) {
            let digest = try DaybookProcess.run(["digest", "--at", start, "--format", format], environment: daybook)
            #expect(digest.status == 0, "\(digest.stderr)")
            #expect(part["text"] as? String == digest.stdout, "the \(format) part is the digest")
        }
        #expect((parts.first?["text"] as? String)?.contains("5 changes in 1 table.") == true)

        // The refused login: given up after three attempts, its reason kept. The TLS failure:
        // pending, retried, visible.
        let list = try DaybookProcess.run(["notify", "list"], environment: daybook)
        #expect(list.stdout.contains("team  email ops@example.com, dba@example.com via \(smtp)"), "\(list.stdout)")
        let badLogin = try database.connection.query(
            "SELECT status, attempts::text, last_error FROM daybook.deliveries WHERE destination = 'badlogin'"
        ).rows.first
        #expect(badLogin?[0] == "failed" && badLogin?[1] == "3", "\(String(describing: badLogin))")
        #expect(badLogin?[2]?.contains("535") == true, "\(String(describing: badLogin))")
        let tlsOnly = try database.connection.query(
            "SELECT status, last_error FROM daybook.deliveries WHERE destination = 'tlsonly'"
        ).rows.first
        #expect(tlsOnly?[0] == "pending" && tlsOnly?[1]?.contains("TLS") == true, "\(String(describing: tlsOnly))")
        let status = try DaybookProcess.run(["status"], environment: daybook)
        #expect(status.stdout.contains("deliveries to badlogin were given up"), "\(status.stdout)")
        #expect(!list.stdout.contains("s3cret") && !status.stdout.contains("s3cret"))

        // `notify test`: the same message now, under an id of its own; a refusal exits 1 and says why.
        let test = try DaybookProcess.run(["notify", "test", "team"], environment: daybook)
        #expect(test.status == 0 && test.stdout.contains("team accepted the test"), "\(test.stdout)\(test.stderr)")
        #expect(server.records.count == 2)
        #expect((server.records.last?["message_id"] as? String)?.contains(".team-test-") == true)
        let failing = try DaybookProcess.run(["notify", "test", "tlsonly"], environment: daybook)
        #expect(failing.status == 1 && failing.stderr.contains("TLS"), "\(failing.stderr)")
    }
}
