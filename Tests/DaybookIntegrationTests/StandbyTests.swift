import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// Decoding on a physical standby (PostgreSQL 16 and later): the slot on a standby made with
/// `pg_basebackup`, load and heartbeats on the primary, results in a sink on the primary. On an
/// older standby (Debian's 15 in the main run), the refusal. Each test makes its own primary and
/// standby (``ThrowawayServers``), of the test server's version.
@Suite(.serialized)
struct StandbyTests {
    /// A primary and its standby, and a test database on the primary; returns the standby's
    /// connection string for that database, once it has replayed its creation.
    private static func pair(_ servers: ThrowawayServers, label: String) throws -> (TestDatabase, standby: String) {
        let ports = [try freePort(), try freePort()]
        let primary = try servers.start(port: ports[0])
        _ = try servers.standby(of: primary, port: ports[1])
        let database = try TestDatabase(label, server: ThrowawayServers.connectionString(port: ports[0]))
        let standby = ThrowawayServers.connectionString(port: ports[1], database: database.name)
        try waitUntil("the standby has the new database") {
            (try? PostgresConnection(ConnectionString(standby))) != nil
        }
        return (database, standby)
    }

    /// The tables, audit triggers and sink schema on the primary; the slot on the standby.
    private static func prepare(
        _ database: TestDatabase,
        standby: String
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        try database.connection.simpleQuery(IndependentCount.installSQL)
        try database.connection.simpleQuery(Workload.schemaSQL)
        for (table, columns) in Workload.keyColumns {
            try database.connection.simpleQuery(IndependentCount.auditSQL(table: table, keyColumns: columns))
        }
        let migrate = try DaybookProcess.run(["migrate", "--sink", database.connectionString])
        #expect(migrate.status == 0, "\(migrate.stderr)")
        return try DaybookProcess.run(
            [
                "setup", "--database", standby, "--primary", database.connectionString, "--slot", database.name,
                "--schemas", "app",
            ])
    }

    private static func serverVersion(_ connectionString: String) throws -> Int {
        try PostgresConnection(ConnectionString(connectionString)).serverVersion
    }

    /// Daybook on the standby, writes and heartbeats on the primary: a backlog is read on the
    /// standby through SQL decoding (backlog mode), every later change arrives through the
    /// standby's stream, and after the load a window closes by heartbeats alone.
    @Test func aStandbyDecodesWhatThePrimaryWrites() throws {
        let servers = try ThrowawayServers()
        defer { servers.stopAll() }
        let (database, standby) = try Self.pair(servers, label: "standby")
        let setup = try Self.prepare(database, standby: standby)
        if try Self.serverVersion(standby) < 160_000 {
            // PostgreSQL 15: no logical decoding on a standby.
            #expect(setup.status == 4)
            #expect(
                setup.stderr.contains("logical decoding on a standby needs PostgreSQL 16 or later"),
                "\(setup.stderr)"
            )
            #expect(try database.scalar("SELECT count(*) FROM pg_publication") == "0", "nothing was created")
            return
        }
        #expect(setup.status == 0, "\(setup.stderr)")
        #expect(setup.stdout.contains("on the standby"), "\(setup.stdout)")
        // A backlog first, read on the standby through SQL decoding by a catch-up run.
        var random = SeededRandom(seed: 12)
        for _ in 0..<50 { try Workload.randomTransaction(database.connection, random: &random) }
        try database.execute(
            "INSERT INTO app.docs SELECT md5(g::text)::uuid, 'doc', repeat('x', 100) FROM generate_series(1000, 20999) g"
        )
        let written = try database.scalar("SELECT pg_current_wal_lsn()::text") ?? "0/0"
        try waitUntil("the standby replays the backlog") {
            try PostgresConnection(ConnectionString(standby)).query(
                "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn",
                [written]
            ).scalar == "t"
        }
        let catchUp = try DaybookProcess.run(
            [
                "run", "--slot", database.name, "--window", "2s", "--grace", "1s", "--until-caught-up", "--log-level",
                "debug",
                "--backlog-chunk", "1",
            ],
            environment: ["DAYBOOK_DATABASE": standby, "DAYBOOK_PRIMARY": database.connectionString]
        )
        #expect(catchUp.status == 0, "\(catchUp.stderr.suffix(3000))")
        #expect(catchUp.stderr.contains("reading the backlog through SQL decoding"), "\(catchUp.stderr.suffix(3000))")
        #expect(catchUp.stderr.components(separatedBy: "reading a range of the backlog").count > 2)
        let service = try DaybookProcess(
            [
                "run", "--slot", database.name, "--window", "2s", "--grace", "1s", "--checkpoint-every", "200ms",
                "--log-level", "debug",
            ],
            environment: ["DAYBOOK_DATABASE": standby, "DAYBOOK_PRIMARY": database.connectionString]
        )
        defer { service.stop() }
        for _ in 0..<100 { try Workload.randomTransaction(database.connection, random: &random) }
        let changes = try IndependentCount.changeCount(database.connection)
        try waitUntil("the load arrives through the standby", log: service) {
            Int(
                try database.scalar(
                    "SELECT coalesce(sum(inserts + updates + deletes + truncates), 0) FROM daybook.table_windows"
                ) ?? "0"
            ) == changes
        }
        #expect(service.stderr.contains("(a standby)"))
        // From here on only heartbeats, written to the primary, move stream time.
        try database.heartbeatUntilEveryWindowCloses("every window closes by heartbeats", service: service)
        #expect(
            try database.scalar("SELECT count(*) FILTER (WHERE closed_by = 'heartbeat') > 0 FROM daybook.windows")
                == "t"
        )
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [])
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 2) == [])
    }

    /// What a standby cannot do, each refused in one line with the fix, before anything is
    /// written to the sink.
    @Test func whatAStandbyCannotDoIsRefusedWithTheFix() throws {
        let servers = try ThrowawayServers()
        defer { servers.stopAll() }
        let (database, standby) = try Self.pair(servers, label: "standbybad")
        let older = try Self.serverVersion(standby) < 160_000
        let setupWithoutPrimary = try DaybookProcess.run(["setup", "--database", standby, "--slot", database.name])
        #expect(setupWithoutPrimary.status == 2 || older)
        #expect(
            setupWithoutPrimary.stderr.contains(older ? "needs PostgreSQL 16 or later" : "add --primary"),
            "\(setupWithoutPrimary.stderr)"
        )
        if older { return }
        #expect(try Self.prepare(database, standby: standby).status == 0)
        let environment = ["DAYBOOK_DATABASE": standby, "DAYBOOK_SINK": database.connectionString]
        let base = ["run", "--slot", database.name, "--window", "2s"]
        let refusals: [(arguments: [String], status: Int32, says: String)] = [
            (["--idle-watermark"], 2, "a standby has no insert position"),
            (["--heartbeat-every", "1s"], 2, "add --primary"),
        ]
        for refusal in refusals {
            let result = try DaybookProcess.run(base + refusal.arguments, environment: environment)
            #expect(result.status == refusal.status, "\(refusal.arguments): \(result.stderr)")
            #expect(result.stderr.contains(refusal.says), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
        }
        // hot_standby_feedback off: the primary would remove what the slot needs.
        let admin = try PostgresConnection(ConnectionString(standby))
        try admin.simpleQuery("ALTER SYSTEM SET hot_standby_feedback = off")
        try admin.simpleQuery("SELECT pg_reload_conf()")
        try waitUntil("the standby has reloaded") { try admin.simpleQuery("SHOW hot_standby_feedback").scalar == "off" }
        let withoutFeedback = try DaybookProcess.run(base, environment: environment)
        #expect(withoutFeedback.status == 4)
        #expect(withoutFeedback.stderr.contains("set hot_standby_feedback = on"), "\(withoutFeedback.stderr)")
        // Nothing of this slot was written to the sink.
        #expect(
            try database.scalar("SELECT count(*) FROM daybook.checkpoint WHERE slot_name = $1", [database.name]) == "0"
        )
    }
}
