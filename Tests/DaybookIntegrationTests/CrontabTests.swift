import DaybookTestSupport
import Foundation
import Testing

/// Runs the job lines of `cron/daybook.crontab` the way cron runs them: the crontab's own
/// variables as the environment, `SHELL -c`, `%` handling. (The CI run also starts a real
/// cron daemon: scripts/test-cron-daemons.)
@Suite(.serialized)
struct CrontabTests {
    struct Crontab {
        var environment: [String: String] = [:]
        var jobs: [(schedule: String, command: String)] = []
    }

    static func load() throws -> Crontab {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("cron/daybook.crontab")
        var crontab = Crontab()
        for rawLine in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            if let equals = line.firstIndex(of: "="), fields.count < 6 || !line.prefix(upTo: equals).contains(" ") {
                crontab.environment[String(line[..<equals])] = String(line[line.index(after: equals)...])
                continue
            }
            crontab.jobs.append((fields.prefix(5).joined(separator: " "), String(fields[5])))
        }
        return crontab
    }

    /// Cron's own rule: an unescaped `%` ends the command (the rest is stdin); `\%` is `%`.
    static func cronCommand(_ command: String) -> String {
        var output = ""
        var escaped = false
        for character in command {
            if escaped {
                output.append(character == "%" ? "%" : "\\\(character)")
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "%" {
                break
            } else {
                output.append(character)
            }
        }
        return output
    }

    static func runAsCron(_ command: String, crontab: Crontab, overrides: [String: String]) throws -> (Int32, String) {
        let binDirectory = try DaybookProcess.binary().deletingLastPathComponent().path
        var environment = crontab.environment
        environment["PATH"] = binDirectory + ":" + (crontab.environment["PATH"] ?? "/usr/bin:/bin")
        environment["LOGNAME"] = "daybook-test"
        environment.merge(overrides) { _, new in new }
        return try runProgram(
            URL(fileURLWithPath: crontab.environment["SHELL"] ?? "/bin/sh"),
            ["-c", cronCommand(command)],
            environment: environment
        )
    }

    @Test func crontabJobsWorkAsCronRunsThem() throws {
        let crontab = try Self.load()
        #expect(crontab.environment["DAYBOOK_DATABASE"] != nil)
        // The digest's job needs day-long windows: DigestTests runs it.
        #expect(crontab.jobs.count == 4)
        #expect(crontab.jobs.contains { $0.schedule == "46 0 * * *" && $0.command.hasPrefix("daybook digest") })
        let heartbeat = try #require(crontab.jobs.first { $0.command.contains("heartbeat") })
        #expect(heartbeat.schedule == "*/5 * * * *")
        let nightly = try #require(
            crontab.jobs.first { $0.command.contains("report") && !$0.command.contains("--events") }
        )
        #expect(nightly.schedule == "45 0 * * *")
        let nightlyEvents = try #require(crontab.jobs.first { $0.command.contains("report --events") })
        #expect(nightlyEvents.schedule == "50 0 * * *")

        let database = try TestDatabase("crontab")
        try Workload.prepare(database)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("daybook-cron-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let overrides = [
            "DAYBOOK_DATABASE": database.connectionString, "HOME": home.path, "DAYBOOK_SLOT": database.name,
        ]
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let service = try DaybookProcess(Workload.runArguments(database), environment: environment)
        defer { _ = service.stop() }
        try database.execute("INSERT INTO app.accounts VALUES (1, 1)")
        Thread.sleep(forTimeInterval: 3.1)

        let (status, output) = try Self.runAsCron(heartbeat.command, crontab: crontab, overrides: overrides)
        #expect(status == 0, "\(output)")
        #expect(output.isEmpty, "a quiet heartbeat sends no mail: \(output)")
        try waitUntil("the crontab's heartbeat reaches the stream and closes the window", log: service) {
            try database.scalar("SELECT closed_by FROM daybook.windows WHERE status = 'closed'") == "heartbeat"
        }

        let (reportStatus, report) = try Self.runAsCron(nightly.command, crontab: crontab, overrides: overrides)
        #expect(reportStatus == 0, "\(report)")
        let (eventsStatus, eventsMail) = try Self.runAsCron(
            nightlyEvents.command,
            crontab: crontab,
            overrides: overrides
        )
        #expect(eventsStatus == 0 && eventsMail.isEmpty, "only errors are mailed: \(eventsMail)")
        let saved = try FileManager.default.contentsOfDirectory(
            atPath: home.appendingPathComponent("daybook-reports").path
        )
        .sorted()
        #expect(saved.count == 2, "\(saved)")
        #expect(saved.first.map { $0.hasPrefix("daybook-") && $0.hasSuffix("-events.jsonl") } == true, "\(saved)")
        #expect(saved.last.map { $0.hasPrefix("daybook-") && $0.hasSuffix(".txt") } == true, "\(saved)")

        // A failing job: cron's mail (the job's output) says why, in one line.
        let broken = [
            "DAYBOOK_DATABASE": database.connectionString.replacingOccurrences(
                of: "dbname=\(database.name)",
                with: "dbname=no_such_database"
            )
        ]
        let (failedStatus, mail) = try Self.runAsCron(heartbeat.command, crontab: crontab, overrides: broken)
        #expect(failedStatus != 0)
        #expect(mail.contains("daybook: error:") && mail.contains("no_such_database"), "\(mail)")
    }

    @Test func percentSignsFollowCronRules() {
        #expect(Self.cronCommand(#"date +\%F"#) == "date +%F")
        #expect(Self.cronCommand("echo a%stdin") == "echo a")
    }
}
