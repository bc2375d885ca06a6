import DaybookTestSupport
import Foundation
import PostgresReplication
import Synchronization
import Testing

/// Backlog mode: a backlog read through SQL decoding (`pg_logical_slot_peek_binary_changes`
/// over COPY) in ranges of WAL, the slot advanced only to what the sink committed, then the
/// stream for the live tail. Reads of one mebibyte make every backlog here many reads, so a
/// large transaction is larger than a read and an open one spans several.
@Suite(.serialized)
struct BacklogModeTests {
    /// One-mebibyte reads whenever a mebibyte is behind, and small batches, so that a large
    /// transaction is also written ahead of its commit in parts.
    static let smallReads = ["--backlog-threshold", "1", "--backlog-chunk", "1", "--batch-size", "2000"]

    private static func environment(_ database: TestDatabase) -> [String: String] {
        ["DAYBOOK_DATABASE": database.connectionString]
    }

    /// The workload's tables, with `app.pairs` captured at `values`, so the backlog's events are
    /// compared with the audit too.
    private static func prepareWithPairsAtValues(_ database: TestDatabase) throws {
        try Workload.prepare(
            source: database.connection,
            environment: environment(database),
            slot: database.name,
            valuesTables: ["app.pairs"]
        )
    }

    /// Writes a backlog while Daybook is not running: random transactions with heartbeats
    /// between them (windows close inside the backlog), a transaction of 20,000 rows
    /// (some 5 MB of WAL: several reads), and one that stays open while that one is written, so its
    /// changes lie on both sides of read boundaries.
    static func writeBacklog(_ database: TestDatabase, seed: UInt64, keysFrom base: Int) throws {
        var random = SeededRandom(seed: seed)
        let open = try PostgresConnection(ConnectionString(database.connectionString))
        try open.simpleQuery("BEGIN")
        try open.query(
            "INSERT INTO app.pairs SELECT g, 'spanning', g FROM generate_series($1::int, $1::int + 999) g",
            [String(base)]
        )
        for round in 0..<3 {
            for _ in 0..<60 { try Workload.randomTransaction(database.connection, random: &random) }
            _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment(database))
            if round == 1 {
                try database.connection.query(
                    """
                    INSERT INTO app.docs SELECT md5(g::text)::uuid, 'doc ' || g, repeat('x', 100)
                      FROM generate_series($1::int, $1::int + 19999) g
                    """,
                    [String(base)]
                )
                try open.query("UPDATE app.pairs SET v = v + 1 WHERE b = 'spanning' AND a >= $1::int", [String(base)])
            }
            Thread.sleep(forTimeInterval: 1)
        }
        try open.query("DELETE FROM app.pairs WHERE b = 'spanning' AND a < $1::int + 100", [String(base)])
        try open.simpleQuery("COMMIT")
    }

    /// A source role of its own (REPLICATION, reading the app tables), so that settings and
    /// rights can differ from the sink's role, which stays the test server's superuser.
    /// Returns its connection string; the role goes with the database.
    private static func sourceRole(_ database: TestDatabase, _ name: String, setup: [String] = []) throws -> String {
        let role = "dbk_\(name)_\(database.name.suffix(8))"
        try database.admin.simpleQuery("CREATE ROLE \(role) LOGIN REPLICATION PASSWORD 'role-secret'")
        database.onDrop { try $0.simpleQuery("DROP ROLE IF EXISTS \(role)") }
        try database.execute(
            """
            GRANT USAGE ON SCHEMA app, daybook TO \(role);
            GRANT SELECT ON ALL TABLES IN SCHEMA app TO \(role);
            GRANT SELECT, UPDATE ON daybook.heartbeat TO \(role);
            """
        )
        for statement in setup {
            try database.admin.simpleQuery(statement.replacingOccurrences(of: "{role}", with: role))
        }
        return database.connectionString
            .replacingOccurrences(of: "user=postgres", with: "user=\(role)")
            .replacingOccurrences(of: "password=daybook-test-password", with: "password=role-secret")
    }

    private static func expectExactResults(_ database: TestDatabase, values: Bool = true, _ note: String = "") throws {
        #expect(try IndependentCount.changeCount(database.connection) > 20_000, "\(note)")
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [], "\(note)")
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 2) == [], "\(note)")
        if values {
            #expect(try ValueAudit.mismatches(source: database.connection, sink: database.connection) == [], "\(note)")
        }
    }

    /// How many reads a run's log says its backlog took.
    static func reads(in log: String) -> Int {
        log.components(separatedBy: "reading a range of the backlog").count - 1
    }

    /// A nightly catch-up run reads its whole backlog through SQL and stops; a service started
    /// behind reads through SQL, hands over to the stream and takes live changes; the results
    /// equal the independent count per table, window and key, values included.
    @Test func aBacklogReadThroughSQLThenLiveChangesEqualTheIndependentCount() throws {
        let database = try TestDatabase("backlog")
        try Self.prepareWithPairsAtValues(database)
        try Self.writeBacklog(database, seed: 21, keysFrom: 100_000)

        let nightly = try DaybookProcess.run(
            Workload.runArguments(database, extra: ["--until-caught-up"] + Self.smallReads),
            environment: Self.environment(database)
        )
        #expect(nightly.status == 0, "\(nightly.stderr.suffix(3000))")
        #expect(nightly.stderr.contains("reading the backlog through SQL decoding"))
        #expect(Self.reads(in: nightly.stderr) >= 4, "a backlog of several MiB in 1 MiB reads")
        #expect(nightly.stderr.contains("caught up"))
        #expect(!nightly.stderr.contains("takes over"))

        try Self.writeBacklog(database, seed: 22, keysFrom: 200_000)
        let service = try DaybookProcess(
            Workload.runArguments(database, extra: Self.smallReads),
            environment: Self.environment(database)
        )
        defer { service.stop() }
        try waitUntil("the stream takes over from backlog mode", timeout: .seconds(120), log: service) {
            service.stderr.contains("the replication stream takes over")
        }
        #expect(Self.reads(in: service.stderr) >= 4)
        #expect(service.stderr.contains("daybook.read_ahead=true"), "the ranges were read ahead")
        // The temporary copy read ahead is gone with its connection once the stream took over.
        try waitUntil("the copy of the slot is dropped", log: service) {
            try database.scalar(
                "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE $1 || '\\_ahead\\_%'",
                [database.name]
            ) == "0"
        }
        var random = SeededRandom(seed: 23)
        for _ in 0..<100 { try Workload.randomTransaction(database.connection, random: &random) }
        try database.heartbeatUntilEveryWindowCloses("every window closes", service: service)
        try Self.expectExactResults(database)
        // Nothing of the backlog was read twice into the sink, and the slot stands where the sink does.
        let slot = try database.scalar(
            "SELECT confirmed_flush_lsn >= (SELECT lsn FROM daybook.checkpoint WHERE slot_name = $1) FROM pg_replication_slots WHERE slot_name = $1",
            [database.name]
        )
        #expect(slot == "t")
    }

    /// Where a SIGKILL lands in backlog mode.
    enum KillPoint: CaseIterable {
        /// While ranges are being read and committed.
        case reading
        /// While a range is processed and the next two are decoded ahead (the third range is
        /// asked for only once the first has been read).
        case twoRangesInFlight
        /// Just as the slot is told to advance to what the sink committed.
        case advancing
        /// Just after the replication stream took over.
        case switching

        func isReached(_ log: String) -> Bool {
            switch self {
            case .reading: log.contains("reading a range of the backlog")
            case .twoRangesInFlight: BacklogModeTests.reads(in: log) >= 3
            case .advancing: log.contains("advancing the slot")
            case .switching: log.contains("the replication stream takes over")
            }
        }
    }

    /// SIGKILL during backlog reads (also with two ranges decoded ahead), as the slot advances
    /// and at the switch to the stream, twice each, while transactions keep coming: 0 mismatches.
    @Test func sigkillDuringBacklogModeLosesAndDoublesNothing() throws {
        let database = try TestDatabase("backlogkill")
        try Self.prepareWithPairsAtValues(database)
        let environment = Self.environment(database)
        let finished = Atomic<Bool>(false)
        let failure = Mutex<String?>(nil)
        let connectionString = database.connectionString
        let writer = Thread {
            defer { finished.store(true, ordering: .releasing) }
            do {
                let connection = try PostgresConnection(ConnectionString(connectionString))
                var random = SeededRandom(seed: 31)
                for _ in 0..<1500 {
                    try Workload.randomTransaction(connection, random: &random)
                    Thread.sleep(forTimeInterval: 0.004)
                }
            } catch { failure.withLock { $0 = "\(error)" } }
        }
        writer.start()
        var service: DaybookProcess?
        var kills = 0
        for (round, point) in (KillPoint.allCases + KillPoint.allCases).enumerated() {
            // A burst of a few MiB, so that the next start is well behind.
            try database.connection.query(
                "INSERT INTO app.scratch SELECT g FROM generate_series($1::int, $1::int + 29999) g",
                [String(round * 100_000)]
            )
            _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment)
            let running = try DaybookProcess(
                Workload.runArguments(database, extra: Self.smallReads),
                environment: environment
            )
            service = running
            try waitUntil("daybook reaches \(point)", timeout: .seconds(120), every: .milliseconds(5), log: running) {
                point.isReached(running.stderr)
            }
            if point == .reading { Thread.sleep(forTimeInterval: Double(round) * 0.05) }
            running.killHard()
            kills += 1
        }
        service = try DaybookProcess(Workload.runArguments(database, extra: Self.smallReads), environment: environment)
        defer { service?.stop() }
        while !finished.load(ordering: .acquiring) { Thread.sleep(forTimeInterval: 0.1) }
        #expect(failure.withLock { $0 } == nil)
        #expect(kills == 2 * KillPoint.allCases.count)
        if let service {
            try database.heartbeatUntilEveryWindowCloses(
                "heartbeats close every window after the kills",
                service: service
            )
        }
        try Self.expectExactResults(database)
    }

    /// A SIGTERM while a range is being read: the run writes its last checkpoint and exits 0,
    /// the slot stands no further than the sink, and the next run finishes the backlog exactly.
    @Test func aStopRequestedWhileARangeIsReadEndsCleanlyAndTheNextRunFinishes() throws {
        let database = try TestDatabase("backlogstop")
        try Self.prepareWithPairsAtValues(database)
        try Self.writeBacklog(database, seed: 61, keysFrom: 100_000)
        let service = try DaybookProcess(
            Workload.runArguments(database, extra: Self.smallReads),
            environment: Self.environment(database)
        )
        // A range is in the sink and the next ones are asked for (read ahead, or in turn).
        try waitUntil("a range is in the sink", timeout: .seconds(120), every: .milliseconds(5), log: service) {
            try database.scalar("SELECT lsn > '0/0' FROM daybook.checkpoint") == "t"
                && Self.reads(in: service.stderr) >= 3
        }
        #expect(service.stop() == 0, "\(service.stderr.suffix(3000))")
        #expect(service.stderr.contains("shutting down: writing the last checkpoint"))
        #expect(!service.stderr.contains("the replication stream takes over"), "stopped inside the backlog")
        let slotWithinSink = try database.scalar(
            """
            SELECT confirmed_flush_lsn <= (SELECT lsn FROM daybook.checkpoint WHERE slot_name = $1)
              FROM pg_replication_slots WHERE slot_name = $1
            """,
            [database.name]
        )
        #expect(slotWithinSink == "t", "the slot is never confirmed past the sink")
        let rest = try DaybookProcess.run(
            Workload.runArguments(database, extra: ["--until-caught-up"] + Self.smallReads),
            environment: Self.environment(database)
        )
        #expect(rest.status == 0, "\(rest.stderr.suffix(3000))")
        #expect(rest.stderr.contains("reading the backlog through SQL decoding"))
        try Self.closeEveryWindowAndCompare(database, values: true)
    }

    /// A backlog of nothing but heartbeats (a quiet night): the catch-up reads it through SQL
    /// and the heartbeats close what is due, with nothing counted for the heartbeat table.
    @Test func aBacklogOfOnlyHeartbeatsClosesWhatIsDue() throws {
        let database = try TestDatabase("backloghb")
        try Workload.prepare(database)
        var random = SeededRandom(seed: 71)
        for _ in 0..<30 { try Workload.randomTransaction(database.connection, random: &random) }
        let first = try DaybookProcess.run(
            Workload.runArguments(database, extra: ["--until-caught-up"]),
            environment: Self.environment(database)
        )
        #expect(first.status == 0, "\(first.stderr.suffix(3000))")
        let openAfterFirst = try IndependentCount.unclosedWindows(database.connection, windowSeconds: 2)
        #expect(openAfterFirst >= 1, "the last window waits for stream time")
        let lsnBefore = try #require(try database.scalar("SELECT lsn FROM daybook.checkpoint"))

        // The quiet night: heartbeats only, past the last window's end and grace.
        for _ in 0..<4 {
            let beat = try DaybookProcess.run(["heartbeat", "--quiet"], environment: Self.environment(database))
            #expect(beat.status == 0, "\(beat.stderr)")
            Thread.sleep(forTimeInterval: 1.2)
        }
        let catchUp = try DaybookProcess.run(
            Workload.runArguments(database, extra: ["--until-caught-up"] + Self.smallReads),
            environment: Self.environment(database)
        )
        #expect(catchUp.status == 0, "\(catchUp.stderr.suffix(3000))")
        #expect(catchUp.stderr.contains("reading the backlog through SQL decoding"), "\(catchUp.stderr.suffix(3000))")
        #expect(try IndependentCount.unclosedWindows(database.connection, windowSeconds: 2) == 0)
        #expect(
            try database.scalar(
                "SELECT closed_by FROM daybook.windows WHERE status = 'closed' ORDER BY window_start DESC LIMIT 1"
            ) == "heartbeat"
        )
        #expect(try database.scalar("SELECT lsn > $1::pg_lsn FROM daybook.checkpoint", [lsnBefore]) == "t")
        #expect(
            try database.scalar("SELECT count(*) FROM daybook.table_windows WHERE table_name LIKE 'daybook.%'") == "0"
        )
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [])
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 2) == [])
    }

    /// A role that may stream but not call the SQL functions: one line says so and why, the
    /// stream reads the backlog, the results are exact.
    @Test func withoutTheRightToCallTheFunctionsTheStreamReadsTheBacklog() throws {
        let database = try TestDatabase("backlogrole")
        try Workload.prepare(database)
        try database.execute(
            "REVOKE EXECUTE ON FUNCTION pg_catalog.pg_logical_slot_peek_binary_changes(name, pg_lsn, integer, text[]) FROM PUBLIC"
        )
        let source = try Self.sourceRole(database, "streamonly")
        try Self.writeBacklog(database, seed: 41, keysFrom: 100_000)
        let log = try Self.catchUpFallingBack(database, source: source, because: "GRANT EXECUTE")
        #expect(Self.reads(in: log) == 0)
        try Self.closeEveryWindowAndCompare(database)
    }

    /// A server without the SQL decoding functions (here renamed away in the test's database,
    /// as a fork or a proxy may lack them): one line says so, the stream reads the backlog.
    @Test func withoutTheFunctionsTheStreamReadsTheBacklog() throws {
        let database = try TestDatabase("backlognofn")
        try Workload.prepare(database)
        try database.execute(
            """
            ALTER FUNCTION pg_catalog.pg_logical_slot_peek_binary_changes(name, pg_lsn, integer, text[])
                RENAME TO daybook_test_renamed_peek
            """
        )
        try Self.writeBacklog(database, seed: 45, keysFrom: 100_000)
        let log = try Self.catchUpFallingBack(
            database,
            source: database.connectionString,
            because: "no usable SQL decoding functions"
        )
        #expect(Self.reads(in: log) == 0)
        try Self.closeEveryWindowAndCompare(database)
    }

    /// A read whose decoded changes exceed the server's `temp_file_limit` (a transaction larger
    /// than it): one line says so, the stream reads the rest, the results are exact. The limit
    /// is the source role's only, so the sink's own work is not limited.
    @Test func aReadPastTheTempFileLimitFallsBackToTheStream() throws {
        let database = try TestDatabase("backlogtemp")
        try Workload.prepare(database)
        // Results past 64kB go to temporary files, and 2MB of them is the limit.
        let source = try Self.sourceRole(
            database,
            "templimit",
            setup: [
                "ALTER ROLE {role} IN DATABASE \(database.name) SET work_mem = '64kB'",
                "ALTER ROLE {role} IN DATABASE \(database.name) SET temp_file_limit = '2MB'",
            ]
        )
        try Self.writeBacklog(database, seed: 51, keysFrom: 100_000)
        let log = try Self.catchUpFallingBack(database, source: source, because: "temp_file_limit")
        #expect(Self.reads(in: log) >= 1, "the reads before the large transaction went through SQL")
        try Self.closeEveryWindowAndCompare(database)
    }

    /// A catch-up run as `source` (the sink as the test server's superuser) that must end
    /// backlog mode with exactly one line naming `reason` and still finish; returns its log.
    private static func catchUpFallingBack(
        _ database: TestDatabase,
        source: String,
        because reason: String
    ) throws -> String {
        try catchUp(database, source: source, sayingOnce: "backlog mode unavailable", because: reason)
    }

    /// A catch-up run as `source` (the sink as the test server's superuser) that reads its
    /// backlog in turn, not ahead, saying so in exactly one line naming `reason`, in backlog
    /// mode to the end; then every window closed and the results compared.
    private static func catchUpReadingInTurn(_ database: TestDatabase, source: String, because reason: String) throws {
        let log = try catchUp(
            database,
            source: source,
            sayingOnce: "reading the backlog without overlap",
            because: reason
        )
        #expect(!log.contains("backlog mode unavailable"))
        #expect(reads(in: log) >= 4)
        try closeEveryWindowAndCompare(database)
    }

    /// A catch-up run as `source` (the sink as the test server's superuser) that finishes and
    /// logs exactly one line containing `line`, naming `reason`; returns its log.
    private static func catchUp(
        _ database: TestDatabase,
        source: String,
        sayingOnce line: String,
        because reason: String
    ) throws -> String {
        let run = try DaybookProcess.run(
            Workload.runArguments(
                database,
                extra: ["--until-caught-up", "--sink", database.connectionString] + smallReads
            ),
            environment: ["DAYBOOK_DATABASE": source]
        )
        #expect(run.status == 0, "\(run.stderr.suffix(3000))")
        let notices = run.stderr.split(separator: "\n").filter { $0.contains(line) }
        #expect(notices.count == 1, "\(run.stderr.suffix(3000))")
        #expect(notices.first?.contains(reason) == true, "\(notices)")
        return run.stderr
    }

    /// A service with heartbeats until every window is closed, then the independent count.
    private static func closeEveryWindowAndCompare(_ database: TestDatabase, values: Bool = false) throws {
        let service = try DaybookProcess(Workload.runArguments(database), environment: environment(database))
        defer { service.stop() }
        try database.heartbeatUntilEveryWindowCloses("every window closes", service: service)
        try expectExactResults(database, values: values)
    }

    /// The sink server crashes while the source decodes the next ranges ahead: the run waits
    /// for the sink as it does when streaming, reads again from what the sink holds (what was
    /// read ahead is dropped with the copy of the slot, and read again, in backlog mode or
    /// streamed, as much is left), and the results are exact.
    @Test func aSinkOutageWhileTheNextRangeIsDecodedLosesAndDoublesNothing() throws {
        let database = try TestDatabase("backlogsinkdown")
        try Self.prepareWithPairsAtValues(database)
        let cluster = try Cluster.forTest("backlog-sink")
        defer { cluster.remove() }
        let sinkString = cluster.database("postgres")
        let migrated = try DaybookProcess.run(["migrate"], environment: ["DAYBOOK_DATABASE": sinkString])
        #expect(migrated.status == 0, "\(migrated.stderr)")
        let sink = try PostgresConnection(ConnectionString(sinkString))
        try Self.writeBacklog(database, seed: 81, keysFrom: 100_000)
        let service = try DaybookProcess(
            Workload.runArguments(database, extra: ["--sink", sinkString] + Self.smallReads),
            environment: Self.environment(database)
        )
        defer { service.stop() }
        try waitUntil(
            "a range is in the sink, two more asked for",
            timeout: .seconds(120),
            every: .milliseconds(5),
            log: service
        ) {
            try sink.query("SELECT lsn > '0/0' FROM daybook.checkpoint").scalar == "t"
                && Self.reads(in: service.stderr) >= 3
        }
        #expect(!service.stderr.contains("the replication stream takes over"), "the outage comes inside the backlog")
        try cluster.crash()
        Thread.sleep(forTimeInterval: 2)
        try cluster.resume()
        try waitUntil("the stream takes over after the outage", timeout: .seconds(180), log: service) {
            service.stderr.contains("the replication stream takes over")
        }
        #expect(service.isRunning)
        #expect(service.stderr.contains("connection lost; reconnecting"), "the outage was met, and waited out")
        let source = database.connection
        try waitUntil("every window closes", timeout: .seconds(120), log: service) {
            _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: Self.environment(database))
            let after = try PostgresConnection(ConnectionString(sinkString))
            return try IndependentCount.unclosedWindows(source: source, sink: after, windowSeconds: 2) == 0
        }
        let after = try PostgresConnection(ConnectionString(sinkString))
        #expect(try IndependentCount.tableMismatches(source: source, sink: after, windowSeconds: 2) == [])
        #expect(try IndependentCount.keyMismatches(source: source, sink: after, windowSeconds: 2) == [])
        #expect(try ValueAudit.mismatches(source: source, sink: after) == [])
    }

    /// A role that may hold one connection only: no second connection to read ahead on, so the
    /// ranges are read in turn on the session's own, with one line saying why; the run
    /// finishes and the results are exact.
    @Test func withoutASecondConnectionTheRangesAreReadInTurn() throws {
        let database = try TestDatabase("backlogonecon")
        try Workload.prepare(database)
        let source = try Self.sourceRole(database, "onecon", setup: ["ALTER ROLE {role} CONNECTION LIMIT 1"])
        try Self.writeBacklog(database, seed: 91, keysFrom: 100_000)
        try Self.catchUpReadingInTurn(database, source: source, because: "too many connections")
    }

    /// A role that may peek at its slot but not read a copy of it (`EXECUTE` on
    /// `pg_logical_slot_get_binary_changes` revoked): the ranges are read in turn, one line says
    /// why, and the results are exact.
    @Test func withoutTheRightToReadACopyTheRangesAreReadInTurn() throws {
        let database = try TestDatabase("backlognoget")
        try Workload.prepare(database)
        try database.execute(
            "REVOKE EXECUTE ON FUNCTION pg_catalog.pg_logical_slot_get_binary_changes(name, pg_lsn, integer, text[]) FROM PUBLIC"
        )
        let source = try Self.sourceRole(database, "noget")
        try Self.writeBacklog(database, seed: 95, keysFrom: 100_000)
        try Self.catchUpReadingInTurn(database, source: source, because: "pg_logical_slot_get_binary_changes")
    }

    /// While a backlog is read through SQL, `daybook status` and the metrics say so; once the
    /// stream takes over, they say that. The sink's per-key table is locked meanwhile, so the
    /// service stays in backlog mode (its next checkpoint waits) for as long as the test looks.
    @Test func statusAndMetricsShowBacklogMode() throws {
        let database = try TestDatabase("backlogstatus")
        try Workload.prepare(database)
        try Self.writeBacklog(database, seed: 61, keysFrom: 100_000)
        let (service, port) = try listeningService(database, extra: Self.smallReads)
        defer { _ = service.stop() }
        let lock = try PostgresConnection(ConnectionString(database.connectionString))
        try waitUntil("backlog mode starts", every: .milliseconds(5), log: service) {
            service.stderr.contains("reading the backlog through SQL decoding")
        }
        try lock.simpleQuery("BEGIN; LOCK TABLE daybook.key_changes IN ACCESS EXCLUSIVE MODE")
        func status() throws -> String {
            let status = try DaybookProcess.run(
                ["status", "--slot", database.name],
                environment: Self.environment(database)
            )
            #expect(status.status == 0, "\(status.stderr)")
            return status.stdout
        }
        #expect(try status().contains("reading a backlog through SQL decoding (backlog mode)"))
        let json = try DaybookProcess.run(
            ["status", "--slot", database.name, "--format", "json"],
            environment: Self.environment(database)
        )
        #expect(json.stdout.contains("\"read_mode\":\"backlog\""), "\(json.stdout)")
        #expect(try httpGet(port: port, path: "/metrics").body.contains("daybook_backlog_mode 1"))
        #expect(try httpGet(port: port, path: "/readyz").status == 200)
        try lock.simpleQuery("ROLLBACK")
        try waitUntil("the stream takes over", timeout: .seconds(120), log: service) {
            service.stderr.contains("the replication stream takes over")
        }
        try waitUntil("status says streaming", log: service) { try status().contains("active (pid") }
        #expect(try httpGet(port: port, path: "/metrics").body.contains("daybook_backlog_mode 0"))
        #expect(try httpGet(port: port, path: "/metrics").body.contains("daybook_streaming 1"))
    }
}
