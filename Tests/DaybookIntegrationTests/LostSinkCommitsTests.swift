import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// A sink that went back in time (restored from a backup, failed over to a standby that had not
/// replayed its last commits) while the slot had confirmed what it lost: `daybook run` refuses
/// with one line and exit 4, and writes nothing, instead of reporting a day with changes missing.
@Suite(.serialized)
struct LostSinkCommitsTests {
    /// A source with `app.items` (audited), an empty sink migrated and set up, and the name of a
    /// third database for the stale copy; all dropped when the source is.
    private struct Scene {
        let source: TestDatabase
        let sink: String
        let stale: String
        let sinkName: String
        let staleName: String
        let environment: [String: String]

        init(_ label: String) throws {
            source = try TestDatabase(label)
            let server = try TestDatabase.serverConnectionString()
            sinkName = source.name + "_sink"
            staleName = source.name + "_stale"
            try source.admin.simpleQuery("CREATE DATABASE \(sinkName)")
            source.onDrop { [sinkName, staleName] admin in
                for name in [sinkName, staleName] {
                    _ = try? admin.simpleQuery("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                }
            }
            sink = server + " dbname=\(sinkName)"
            stale = server + " dbname=\(staleName)"
            environment = ["DAYBOOK_DATABASE": source.connectionString, "DAYBOOK_SINK": sink]
            try source.execute(
                "CREATE SCHEMA app; CREATE TABLE app.items (id integer PRIMARY KEY, v integer);"
                    + IndependentCount.installSQL + IndependentCount.auditSQL(table: "app.items", keyColumns: ["id"])
            )
            #expect(try DaybookProcess.run(["migrate"], environment: environment).status == 0)
            let setup = try DaybookProcess.run(
                ["setup", "--slot", source.name, "--tables", "app.items"],
                environment: environment
            )
            #expect(setup.status == 0, "\(setup.stderr)")
        }

        /// Copies the sink as a backup would (nobody may be connected to it).
        func copySink() throws {
            try source.admin.simpleQuery("CREATE DATABASE \(staleName) TEMPLATE \(sinkName)")
        }

        func inserts(in connectionString: String) throws -> Int {
            try PostgresConnection(ConnectionString(connectionString)).query(
                "SELECT coalesce(sum(inserts), 0) FROM daybook.table_windows WHERE table_name = 'app.items'"
            ).scalar.flatMap { Int($0) } ?? -1
        }

        func confirmed() throws -> String? {
            try source.scalar(
                "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
                [source.name]
            )
        }
    }

    @Test func aSinkRestoredFromAnEarlierCopyIsRefused() throws {
        let scene = try Scene("gap_source")
        let source = scene.source
        let sink = scene.sink
        let stale = scene.stale
        let environment = scene.environment
        func inserts(in connectionString: String) throws -> Int { try scene.inserts(in: connectionString) }
        func confirmed() throws -> String? { try scene.confirmed() }
        let arguments = [
            "run", "--slot", source.name, "--window", "1h", "--grace", "1s", "--checkpoint-every", "100ms",
        ]

        // 100 inserts reach the sink; the sink is copied (the backup), with nobody connected.
        var service = try DaybookProcess(arguments, environment: environment)
        try source.execute("INSERT INTO app.items SELECT g, g FROM generate_series(1, 100) g")
        try waitUntil("the first 100 inserts are in the sink", log: service) { try inserts(in: sink) == 100 }
        #expect(service.stop() == 0)
        try scene.copySink()
        let backupCheckpoint = try PostgresConnection(ConnectionString(stale)).query(
            "SELECT lsn::text || ' ' || updated_at::text FROM daybook.checkpoint"
        ).scalar

        // 100 more reach the sink and are confirmed to the slot; an idle stretch after them is
        // written to the sink before the slot is confirmed past them.
        service = try DaybookProcess(arguments, environment: environment)
        try source.execute("INSERT INTO app.items SELECT g, g FROM generate_series(101, 200) g")
        try waitUntil("the next 100 inserts are in the sink", log: service) { try inserts(in: sink) == 200 }
        try source.execute(
            "CREATE TABLE app.unpublished (id integer); INSERT INTO app.unpublished SELECT generate_series(1, 1000)"
        )
        let walEnd = try #require(try source.scalar("SELECT pg_current_wal_insert_lsn()::text"))
        try waitUntil("the slot is confirmed past the idle stretch", timeout: .seconds(90), log: service) {
            try source.scalar(
                "SELECT $1::pg_lsn <= confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $2",
                [walEnd, source.name]
            )
                == "t"
        }
        #expect(service.stop() == 0)
        let sinkLSN = try PostgresConnection(ConnectionString(sink)).query("SELECT lsn::text FROM daybook.checkpoint")
            .scalar
        #expect(
            try source.scalar(
                "SELECT $1::pg_lsn >= confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $2",
                [sinkLSN, source.name]
            ) == "t",
            "the slot is never confirmed past the sink's checkpoint"
        )

        // The good sink goes on (no false alarm after idle stretches and restarts).
        let again = try DaybookProcess.run(arguments + ["--until-caught-up"], environment: environment)
        #expect(again.status == 0, "\(again.stderr)")

        // The stale copy is refused: one line, exit 4, nothing written.
        let slotBefore = try confirmed()
        let refused = try DaybookProcess.run(arguments + ["--sink", stale], environment: environment)
        #expect(refused.status == 4, "\(refused.stderr)")
        let line =
            refused.stderr.split(separator: "\n").last { $0.contains("lost commits") }.map(String.init)
            ?? refused.stderr
        #expect(line.contains("the sink's checkpoint for slot \(source.name) is at"), "\(line)")
        #expect(line.contains("but the slot has confirmed \(slotBefore ?? "?")"), "\(line)")
        #expect(line.contains("cannot be read again"), "\(line)")
        let staleConnection = try PostgresConnection(ConnectionString(stale))
        #expect(
            try staleConnection.query("SELECT lsn::text || ' ' || updated_at::text FROM daybook.checkpoint").scalar
                == backupCheckpoint
        )
        #expect(try inserts(in: stale) == 100, "nothing was written to the stale sink")
        #expect(try confirmed() == slotBefore, "the slot did not move")
        // So does a catch-up run over a backlog large enough for backlog mode.
        try source.execute("INSERT INTO app.items SELECT g, g FROM generate_series(1001, 40000) g")
        let backlog = try DaybookProcess.run(
            arguments + ["--sink", stale, "--until-caught-up", "--backlog-mode", "--backlog-threshold", "1"],
            environment: environment
        )
        #expect(backlog.status == 4, "\(backlog.stderr)")
        #expect(backlog.stderr.contains("the sink lost commits"), "\(backlog.stderr)")
        #expect(try confirmed() == slotBefore, "the slot did not move")

        // A slot dropped and made again starts at the server's WAL end, far from the sink's
        // checkpoint: refused, worded for it.
        try source.execute("SELECT pg_drop_replication_slot('\(source.name)')")
        let remade = try DaybookProcess.run(
            ["setup", "--slot", source.name, "--tables", "app.items"],
            environment: environment
        )
        #expect(remade.status == 0, "\(remade.stderr)")
        let recreated = try DaybookProcess.run(arguments, environment: environment)
        #expect(recreated.status == 4, "\(recreated.stderr)")
        #expect(recreated.stderr.contains("or the slot was dropped and created again"), "\(recreated.stderr)")
        #expect(recreated.stderr.contains("the server keeps WAL for the slot only from"), "\(recreated.stderr)")
    }

    /// `run --accept-gap` goes on from the stale copy: the gap is recorded, every view of the
    /// windows it may touch says they are incomplete, and the windows after it are exact.
    @Test func anAcceptedGapIsRecordedAndItsWindowsAreMarked() throws {
        let scene = try Scene("gap_accept")
        let source = scene.source
        let stale = scene.stale
        let environment = scene.environment
        // No heartbeats before the gap: the copy's stream time stays in the window of its last
        // inserts, which the gap then touches (a window the lost commits alone made does not
        // exist in the copy at all; the report's notice covers its time).
        let arguments = [
            "run", "--slot", source.name, "--window", "2s", "--grace", "1s", "--checkpoint-every", "100ms",
        ]
        var service = try DaybookProcess(arguments, environment: environment)
        try source.execute("INSERT INTO app.items SELECT g, g FROM generate_series(1, 100) g")
        try waitUntil("the first 100 inserts are in the sink", log: service) {
            try scene.inserts(in: scene.sink) == 100
        }
        #expect(service.stop() == 0)
        try scene.copySink()
        let staleConnection = try PostgresConnection(ConnectionString(stale))
        let staleLSN = try #require(try staleConnection.query("SELECT lsn::text FROM daybook.checkpoint").scalar)
        service = try DaybookProcess(arguments, environment: environment)
        try source.execute("INSERT INTO app.items SELECT g, g FROM generate_series(101, 200) g")
        try waitUntil("the next 100 inserts are in the sink", log: service) { try scene.inserts(in: scene.sink) == 200 }
        #expect(service.stop() == 0)

        // --accept-gap on the good sink: no gap, a note, nothing recorded.
        let good = try DaybookProcess.run(arguments + ["--accept-gap", "--until-caught-up"], environment: environment)
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stderr.contains("no gap; nothing recorded"), "\(good.stderr)")
        #expect(
            try PostgresConnection(ConnectionString(scene.sink)).query("SELECT count(*) FROM daybook.gaps").scalar
                == "0"
        )
        let slotBefore = try #require(try scene.confirmed())

        // On the stale copy it goes on, and records the gap.
        service = try DaybookProcess(
            arguments + ["--sink", stale, "--accept-gap", "--heartbeat-every", "300ms"],
            environment: environment
        )
        try waitUntil("the gap is bounded by the first commit after it", log: service) {
            try staleConnection.query("SELECT refined FROM daybook.gaps").scalar == "t"
        }
        #expect(service.stderr.contains("going on as --accept-gap asks"), "\(service.stderr)")
        let gap = try #require(
            try staleConnection.query(
                "SELECT from_lsn::text, to_lsn::text, from_time IS NOT NULL, until_time::text FROM daybook.gaps"
            ).rows.first
        )
        #expect(gap[0] == staleLSN && gap[1] == slotBefore && gap[2] == "t", "\(gap)")
        // Changes after the gap, in windows of their own: 100 inserts and 50 updates.
        try waitUntil("a window boundary passes the gap", timeout: .seconds(10)) {
            try source.scalar("SELECT now() >= $1::timestamptz + interval '2.2 seconds'", [gap[3]]) == "t"
        }
        try source.execute("INSERT INTO app.items SELECT g, g FROM generate_series(201, 300) g")
        try source.execute("UPDATE app.items SET v = v + 1 WHERE id BETWEEN 251 AND 300")
        let lastCommit = try #require(
            try source.scalar("SELECT max(pg_xact_commit_timestamp(xmin))::text FROM app.items")
        )
        try waitUntil("the windows after the gap are closed", log: service) {
            try SinkFailoverTests.windowsClosed(through: lastCommit, in: staleConnection)
        }
        #expect(service.stop() == 0)

        // Outside the windows the gap may touch, the results equal the independent count.
        let touched = try IndependentCount.windowsTouchedByGaps(staleConnection, windowSeconds: 2)
        #expect(!touched.isEmpty)
        let outside = try IndependentCount.tableMismatches(
            source: source.connection,
            sink: staleConnection,
            windowSeconds: 2,
            excluding: touched
        )
        #expect(outside.isEmpty, "the windows after the gap are exact: \(outside)")
        let expected = try IndependentCount.expectedTables(source.connection, windowSeconds: 2)
        let actual = try IndependentCount.actualTables(staleConnection)
        #expect(
            expected.contains { !touched.contains($0[0] ?? "") && $0[2] == "100" },
            "the inserts after the gap were counted"
        )
        let inside = IndependentCount.difference(expected: expected, actual: actual)
        #expect(inside.contains { $0.hasPrefix("missing:") }, "the lost inserts are missing, in the windows marked")

        // report: the windows listing marks them; every format carries the notice.
        let range = ["--from", "2000-01-01", "--to", "2100-01-01"]
        let staleEnvironment = environment.merging(["DAYBOOK_SINK": stale]) { $1 }
        let listing = try DaybookProcess.run(
            ["report", "--slot", source.name, "--windows", "--format", "json"] + range,
            environment: staleEnvironment
        )
        #expect(listing.status == 0, "\(listing.stderr)")
        let windows = listing.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(windows.contains { $0["incomplete"] as? Bool == true })
        #expect(windows.contains { $0["incomplete"] as? Bool == false && ($0["changes"] as? Int ?? 0) > 0 })
        for format in ["text", "markdown", "json", "csv"] {
            let report = try DaybookProcess.run(
                ["report", "--slot", source.name, "--format", format] + range,
                environment: staleEnvironment
            )
            #expect(report.status == 0, "\(report.stderr)")
            // Text wraps its note at 100 columns, each line after the first indented under it.
            let said =
                format == "text" || format == "markdown"
                ? report.stdout.replacingOccurrences(of: "\n      ", with: " ") : report.stderr
            #expect(
                said.contains("may be incomplete: the sink lost the commits between LSN \(staleLSN) and \(slotBefore)"),
                "\(format): \(said)"
            )
        }
        let status = try DaybookProcess.run(["status", "--slot", source.name], environment: staleEnvironment)
        #expect(status.stdout.contains("gaps: 1 recorded by daybook run --accept-gap"), "\(status.stdout)")

        // The API and the metric say the same.
        let port = try freePort()
        let serve = try DaybookProcess(
            ["serve", "--slot", source.name, "--listen", "127.0.0.1:\(port)"],
            environment: staleEnvironment
        )
        defer { _ = serve.stop() }
        try waitUntil("serve listens", log: serve) { serve.stderr.contains("serving HTTP") }
        let page = try httpGet(port: port, path: "/api/v1/windows?from=2000-01-01&to=2100-01-01")
        #expect(page.status == 200, "\(page.body)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(page.body.utf8)) as? [String: Any])
        let gaps = try #require(object["gaps"] as? [[String: Any]])
        #expect(
            gaps.count == 1 && gaps.first?["from_lsn"] as? String == staleLSN
                && gaps.first?["until_first_commit"] as? Bool == true
        )
        #expect((object["items"] as? [[String: Any]])?.contains { $0["incomplete"] as? Bool == true } == true)
        #expect((object["notice"] as? String)?.contains("may be incomplete") == true, "\(page.body)")
        let apiStatus = try httpGet(port: port, path: "/api/v1/status")
        #expect(apiStatus.body.contains("\"gaps\":[{"), "\(apiStatus.body)")
        let metrics = try httpGet(port: port, path: "/metrics")
        #expect(metrics.body.contains("daybook_gaps_total 1"), "\(metrics.body)")
        // The dashboard: the overview marks the windows and lists the gap; a window's page says why.
        let overview = try httpGet(port: port, path: "/")
        #expect(overview.body.contains("data-incomplete") && overview.body.contains("id=\"gaps\""), "\(overview.body)")
        let marked = try #require(
            windows.first { $0["incomplete"] as? Bool == true && ($0["changes"] as? Int ?? 0) > 0 }?["window_start"]
                as? String
        )
        let encoded = marked.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? marked
        let windowPage = try httpGet(port: port, path: "/windows/\(encoded)")
        #expect(windowPage.status == 200 && windowPage.body.contains("may be incomplete"), "\(windowPage.body)")
    }
}
