import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// Closed days delivered to a real HTTP receiver (`Tests/Receivers/webhook-receiver.py`, which
/// checks every signature as the README shows): retried after errors with the same id, given
/// up after a rejected signature, never holding up the stream.
@Suite(.serialized)
struct DeliveryTests {
    /// The receiver, running until the test ends.
    final class Receiver {
        let process = Process()
        let port: Int
        let log: URL

        init(secretFile: URL, fail: Int) throws {
            port = try freePort()
            log = FileManager.default.temporaryDirectory.appendingPathComponent(
                "daybook-webhook-\(UUID().uuidString).jsonl"
            )
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Receivers/webhook-receiver.py")
            let output = Pipe()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", script.path, "--port", String(port), "--secret-file", secretFile.path, "--log", log.path,
                "--fail", String(fail),
            ]
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // It prints "listening" once the socket is bound.
            _ = output.fileHandleForReading.availableData
        }

        /// The requests it received, in order.
        var requests: [[String: Any]] {
            ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        /// Ends the receiver (a test's `defer`: a child outlives a test that only forgets it).
        func stop() {
            if process.isRunning {
                // SIGKILL: a child of the test process may have SIGTERM blocked.
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            try? FileManager.default.removeItem(at: log)
        }
    }

    private static func secretFile(_ text: String) throws -> URL {
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
        let receiver = try Receiver(secretFile: secret, fail: 2)
        // This receiver holds another secret: it must refuse every request (401).
        let strict = try Receiver(secretFile: wrongSecret, fail: 0)
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
        #expect(try database.scalar("SELECT count(*) FROM daybook.deliveries WHERE status = 'pending'") == "2")

        // `notify send` from cron, again and again: 500, 500, then 200.
        try waitUntil("the day is delivered and the rejected one given up", log: service) {
            let send = try DaybookProcess.run(["notify", "send", "--retry-base", "50ms"], environment: daybook)
            #expect(send.status == 0, "\(send.stderr)")
            return try database.scalar("SELECT count(*) FROM daybook.deliveries WHERE status = 'pending'") == "0"
        }
        let requests = receiver.requests
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
        #expect(strict.requests.count == 3)
        #expect(strict.requests.allSatisfy { $0["verified"] as? Bool == false && $0["status"] as? Int == 401 })
        let list = try DaybookProcess.run(["notify", "list"], environment: daybook)
        #expect(list.stdout.contains("strict  webhook http://127.0.0.1:\(strict.port)/…"), "\(list.stdout)")
        #expect(list.stdout.contains("pending: 0; failed: 1; last error: HTTP 401"), "\(list.stdout)")
        #expect(
            list.stdout.contains("team  webhook") && list.stdout.contains("pending: 0; failed: 0"),
            "\(list.stdout)"
        )
        #expect(!list.stdout.contains("/daybook"), "the URL's path is not shown: \(list.stdout)")

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
}
