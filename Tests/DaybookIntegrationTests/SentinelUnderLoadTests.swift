import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// The privacy rules under load (issue 25): a sentinel written into a hashed, a masked and an
/// excluded column by many small transactions and one large streamed one, with Daybook killed
/// twice among the writes (once while the large transaction's chunks wait in the sink), is
/// nowhere in a dump of the sink (taken while the chunks wait, and at the end), in Daybook's
/// logs, in any API response, dashboard page or webhook delivery. Against the audit oracle of the source: every
/// change is stored once, every hash is Python's HMAC of the value under the key (so equal
/// across the restarts), a masked column says `(masked, changed)` exactly on the changes that
/// changed it, and each closed day's changed columns are those whose values varied.
@Suite(.serialized)
struct SentinelUnderLoadTests {
    private static let keys = 40

    @Test func aSentinelWrittenUnderLoadIsNowhereAndTheChangesAreRight() throws {
        let database = try TestDatabase("sentinel_load")
        try database.admin.simpleQuery("ALTER DATABASE \(database.name) SET logical_decoding_work_mem = '64kB'")
        let environment = ["DAYBOOK_DATABASE": database.connectionString, "DAYBOOK_SLOT": database.name]
        let sentinel = "SENTINEL-7f3a-\(UUID().uuidString)"
        try database.connection.simpleQuery(
            ValueAudit.installSQL + """
                CREATE SCHEMA app;
                CREATE TABLE app.customers (id integer PRIMARY KEY, email text, tax_id text, note text, city text);
                """ + ValueAudit.triggerSQL(table: "app.customers", keyColumns: ["id"])
        )
        try ValueProtectionTests.migrateAndCaptureValues(of: "app.customers", environment)
        let folder = try ValueProtectionTests.keyFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let keyFile = folder.appendingPathComponent("values.key")
        let key = "k-" + UUID().uuidString + "-" + UUID().uuidString
        try Data((key + "\n").utf8).write(to: keyFile)
        let rule = try DaybookProcess.run(
            [
                "capture", "app.customers", "values", "--hash", "email", "--mask", "tax_id", "--exclude-columns",
                "note", "--key-file", keyFile.path,
            ],
            environment: environment
        )
        #expect(rule.status == 0, "\(rule.stderr)")

        // A webhook destination: every closed day is delivered while `run` runs.
        let secret = folder.appendingPathComponent("webhook.secret")
        try Data((String(repeating: "5e1f", count: 16) + "\n").utf8).write(to: secret)
        let receiver = try DeliveryTests.receiver(secretFile: secret, fail: 0)
        defer { receiver.stop() }
        let destination = try DaybookProcess.run(
            ["notify", "add", "hook", "--webhook", "http://127.0.0.1:\(receiver.port)/", "--secret-file", secret.path],
            environment: environment
        )
        #expect(destination.status == 0, "\(destination.stderr)")

        let port = try freePort()
        let arguments = Workload.runArguments(
            database,
            extra: ["--stream-memory", "1", "--listen", "127.0.0.1:\(port)"]
        )
        var logs = ""
        var service = try DaybookProcess(arguments, environment: environment)
        defer { _ = service.stop() }
        func restart() throws {
            service.killHard()
            logs += service.stderr + service.stdout
            service = try DaybookProcess(arguments, environment: environment)
        }
        try database.execute(
            """
            INSERT INTO app.customers
            SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE 'u' || g || '-\(sentinel)@example.org' END,
                   CASE WHEN g % 5 = 0 THEN NULL ELSE 'TAX-\(sentinel)-' || g END, 'note \(sentinel)', 'Berlin'
              FROM generate_series(1, \(Self.keys)) g
            """
        )

        // Small transactions of three updates each, choices from a fixed seed.
        var generator = SeededGenerator(seed: 25)
        let large = try PostgresConnection(ConnectionString(database.connectionString))
        for round in 1...48 {
            var statements: [String] = []
            for _ in 0..<3 {
                let id = Int.random(in: 1...Self.keys, using: &generator)
                switch Int.random(in: 0..<6, using: &generator) {
                case 0:
                    statements.append(
                        "UPDATE app.customers SET email = 'v\(round)-\(sentinel)@example.org' WHERE id = \(id)"
                    )
                case 1:
                    statements.append("UPDATE app.customers SET tax_id = 'TAX-\(sentinel)-r\(round)' WHERE id = \(id)")
                case 2:
                    statements.append(
                        "UPDATE app.customers SET tax_id = NULL, note = 'n\(round) \(sentinel)' WHERE id = \(id)"
                    )
                case 3: statements.append("UPDATE app.customers SET email = email, tax_id = tax_id WHERE id = \(id)")
                case 4: statements.append("UPDATE app.customers SET city = 'City \(round)' WHERE id = \(id)")
                default:
                    statements.append(
                        "UPDATE app.customers SET email = 'u\(id)-\(sentinel)@example.org', city = 'Berlin' WHERE id = \(id)"
                    )
                }
            }
            try database.execute("BEGIN; " + statements.joined(separator: "; ") + "; COMMIT")
            if round == 12 { try restart() }
            if round == 20 {
                // 20,000 new customers, about 3 MB of messages: streamed by the server while
                // it runs, held in the sink past 1 MiB. (Large TOASTed values would not do:
                // the server spills a transaction with a TOASTed value in progress to disk
                // rather than stream it.)
                try large.simpleQuery("BEGIN")
                try large.simpleQuery(
                    """
                    INSERT INTO app.customers
                    SELECT g, 'bulk-' || g || '-\(sentinel)@example.org', 'TAX-\(sentinel)-bulk-' || g,
                           'note \(sentinel)', 'Bulk'
                      FROM generate_series(1001, 21000) g
                    """
                )
                try waitUntil("the large transaction's chunks wait in the sink", log: service) {
                    try database.scalar("SELECT count(*) FROM daybook.stream_chunks") != "0"
                }
                let dump = try ValueProtectionTests.sinkDump(database)
                #expect(dump.status == 0 && dump.output.contains("stream_chunks"), "\(dump.output.prefix(300))")
                #expect(!dump.output.contains(sentinel), "the sentinel is in the held chunks")
                try restart()
            }
            if round == 30 { try large.simpleQuery("COMMIT") }
            if round % 8 == 0 { Thread.sleep(forTimeInterval: 0.7) }
        }
        let audited = try database.scalar("SELECT count(*) FROM audit_v.log") ?? ""
        try waitUntil("every change is in the sink and every window closed", log: service) {
            _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment)
            return try database.scalar("SELECT count(*) FROM daybook.value_events") == audited
                && database.scalar("SELECT count(*) FROM daybook.windows WHERE status <> 'closed'") == "0"
        }

        // Against the oracle, key by key, change by change.
        let oracle = try database.connection.query(
            """
            SELECT (new_key ->> 'id')::int, op, new_row ->> 'email', new_row ->> 'tax_id', new_row ->> 'city'
              FROM audit_v.log ORDER BY pg_xact_commit_timestamp(xmin), id
            """
        ).rows
        let stored = try database.connection.query(
            """
            SELECT (key::jsonb ->> 'id')::int, op, new_row::jsonb ->> 'email', new_row::jsonb ->> 'tax_id',
                   new_row::jsonb ->> 'city', new_row::jsonb ? 'note', window_start::text
              FROM daybook.value_events ORDER BY lsn, seq
            """
        ).rows
        #expect(
            oracle.count == stored.count && oracle.count == Self.keys + 48 * 3 + 20_000,
            "\(oracle.count) changes, \(stored.count) stored"
        )
        let hashes = try Self.pythonHashes(Set(oracle.compactMap { $0[2] }), key: key, folder: folder)
        var changed: [String: Set<String>] = [:]  // "window id" → columns that varied in it
        let expectedByKey = Dictionary(grouping: oracle) { $0[0] ?? "" }
        let storedByKey = Dictionary(grouping: stored) { $0[0] ?? "" }
        #expect(expectedByKey.count == Self.keys + 20_000)
        for (id, expected) in expectedByKey {
            let actual = storedByKey[id] ?? []
            guard expected.count == actual.count else {
                Issue.record("key \(id): \(expected.count) changes, \(actual.count) events")
                continue
            }
            var windowStart: String?
            var first: [String?] = []
            for (index, (change, event)) in zip(expected, actual).enumerated() {
                let previous = index > 0 ? expected[index - 1] : nil
                #expect(event[1] == change[1] && event[5] == "f", "key \(id) event \(index): \(event)")
                #expect(event[2] == change[2].map { hashes[$0] ?? "?" }, "key \(id) event \(index): email hash")
                let maskedChanged = previous != nil && previous?[3] != change[3]
                #expect(
                    event[3] == change[3].map { _ in maskedChanged ? "(masked, changed)" : "(masked)" },
                    "key \(id) event \(index): tax_id \(String(describing: event[3]))"
                )
                #expect(event[4] == change[4], "key \(id) event \(index): city")
                // What varied in each window, from the state before its first change.
                if event[6] != windowStart {
                    windowStart = event[6]
                    first = previous.map { [$0[2], $0[3], $0[4]] } ?? [nil, nil, nil]
                    if previous == nil { changed["\(windowStart!) \(id)"] = ["email", "tax_id", "city"] }
                }
                for (column, offset) in [("email", 2), ("tax_id", 3), ("city", 4)]
                where change[offset] != first[offset - 2] {
                    changed["\(windowStart!) \(id)", default: []].insert(column)
                }
            }
        }
        let folded = try database.connection.query(
            "SELECT window_start::text || ' ' || (key ->> 'id'), changed::text FROM daybook.key_values"
        ).rows
        #expect(folded.count == Set(stored.map { "\($0[6]!) \($0[0]!)" }).count)
        for row in folded {
            let columns = Set(
                ((try? JSONSerialization.jsonObject(with: Data((row[1] ?? "{}").utf8))) as? [String: Any] ?? [:]).keys
            ).intersection(["email", "tax_id", "city", "note"])
            #expect(columns == changed[row[0] ?? "", default: []], "changed columns of \(row[0] ?? "")")
        }

        // Nowhere: the sink, the logs, the API, the dashboard.
        var answers: [(String, String)] = []
        for path in ["/api/v1/status", "/api/v1/windows", "/metrics", "/"] {
            let answer = try httpGet(port: port, path: path)
            #expect(answer.status == 200, "\(path): \(answer.status)")
            answers.append((path, answer.body))
        }
        let windows = try database.connection.query(
            "SELECT DISTINCT window_start FROM daybook.value_events ORDER BY 1"
        ).rows.compactMap { $0[0] }
        for start in windows {
            let window = try #require(
                try database.scalar(
                    "SELECT to_char($1::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS+00:00')",
                    [start]
                )?.addingPercentEncoding(withAllowedCharacters: .alphanumerics)
            )
            var paths = [
                "/api/v1/windows/\(window)/tables", "/api/v1/windows/\(window)/keys", "/windows/\(window)",
                "/api/v1/digest?date=\(window)", "/digest?date=\(window)",
            ]
            for id in Set(stored.filter { $0[6] == start }.compactMap { $0[0] }).sorted().prefix(4) {
                let key = "%7B%22id%22%3A%22\(id)%22%7D"
                paths += [
                    "/api/v1/windows/\(window)/events?table=app.customers&key=\(key)",
                    "/windows/\(window)/key?table=app.customers&key=\(key)",
                ]
            }
            for path in paths {
                let answer = try httpGet(port: port, path: path)
                #expect(answer.status == 200, "\(path): \(answer.status) \(answer.body.prefix(200))")
                answers.append((path, answer.body))
            }
        }
        #expect(answers.contains { $0.1.contains("(masked, changed)") }, "the API shows the masked changes")
        try waitUntil("a closed day is delivered", log: service) { !receiver.records.isEmpty }
        answers += receiver.records.map { ("a delivery", ($0["body"] as? String) ?? "") }
        #expect(answers.last?.1.contains("app.customers") == true, "\(answers.last?.1.prefix(300) ?? "")")
        _ = service.stop()
        logs += service.stderr + service.stdout
        let dump = try ValueProtectionTests.sinkDump(database)
        #expect(dump.status == 0 && dump.output.contains("value_events"))
        for (place, text) in [("the sink's dump", dump.output), ("the logs", logs)] + answers {
            #expect(!text.contains(sentinel), "the sentinel is in \(place)")
        }
    }

    /// HMAC-SHA256 of each value under the key, by Python's `hmac`: one process for them all.
    private static func pythonHashes(_ values: Set<String>, key: String, folder: URL) throws -> [String: String] {
        let input = folder.appendingPathComponent("values.json")
        try JSONSerialization.data(withJSONObject: Array(values)).write(to: input)
        let result = try runProgram(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", "-c",
                """
                import hmac, hashlib, json, sys
                values = json.load(open(sys.argv[2]))
                print(json.dumps({v: 'hmac:' + hmac.new(sys.argv[1].encode(), v.encode(), hashlib.sha256).hexdigest() for v in values}))
                """,
                key, input.path,
            ]
        )
        return try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: String])
    }
}

/// A small fixed-seed generator (SplitMix64): the same choices on every run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
