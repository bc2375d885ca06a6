import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// Failover slots (PostgreSQL 17 and later): a standby copies the slot (`sync_replication_slots`),
/// the primary never sends Daybook what that standby lacks (`synchronized_standby_slots`), and
/// Daybook, given every host with `target_session_attrs=read-write`, follows each promotion.
/// The servers are the test's own (`throwaway-postgres start`, `standby`, `promote`, `crash`),
/// the sink a database on the main test server. On an older server, the refusal.
@Suite(.serialized)
struct FailoverTests {
    private static func freePorts(_ count: Int) throws -> [Int] {
        try (0..<count).map { _ in try freePort() }
    }

    /// Every server of `ports`, the one that accepts writes taken.
    static func multiHost(_ ports: [Int]) -> String {
        "host=" + ports.map { _ in "127.0.0.1" }.joined(separator: ",") + " port="
            + ports.map(String.init).joined(separator: ",")
            + " user=postgres password=\(ThrowawayServers.password) dbname=postgres target_session_attrs=read-write connect_timeout=2"
    }

    /// The audited tables on the primary and the slot, made by `daybook setup`.
    private static func prepare(primary: String, sink: TestDatabase, failover: Bool) throws {
        let source = try PostgresConnection(ConnectionString(primary))
        try source.simpleQuery(IndependentCount.installSQL)
        try source.simpleQuery(Workload.schemaSQL)
        for (table, columns) in Workload.keyColumns {
            try source.simpleQuery(IndependentCount.auditSQL(table: table, keyColumns: columns))
        }
        #expect(try DaybookProcess.run(["migrate", "--sink", sink.connectionString]).status == 0)
        let setup = try DaybookProcess.run(
            ["setup", "--database", primary, "--slot", sink.name, "--schemas", "app"] + (failover ? ["--failover"] : [])
        )
        #expect(setup.status == 0, "\(setup.stderr)")
    }

    /// Lets the primary send Daybook only what its standbys have received.
    private static func synchronizeStandbys(primary: String) throws {
        let connection = try PostgresConnection(ConnectionString(primary))
        let slots =
            try connection.simpleQuery(
                "SELECT string_agg(slot_name, ',') FROM pg_replication_slots WHERE slot_type = 'physical'"
            ).scalar ?? ""
        // ALTER SYSTEM takes no parameters: the names go in as an escaped literal.
        try connection.simpleQuery("ALTER SYSTEM SET synchronized_standby_slots = " + connection.quoteLiteral(slots))
        try connection.simpleQuery("SELECT pg_reload_conf()")
    }

    private static func version() throws -> Int {
        try PostgresConnection(ConnectionString(TestDatabase.serverConnectionString())).serverVersion
    }

    /// Three promotions in a row while transactions are written: Daybook follows each through
    /// the multi-host connection and the synchronized slot, and its results equal the
    /// independent count: nothing lost, nothing doubled.
    @Test func promotionsUnderLoadLoseAndDoubleNothing() throws {
        let sink = try TestDatabase("failover")
        guard try Self.version() >= 170_000 else {
            let refused = try DaybookProcess.run([
                "setup", "--database", sink.connectionString, "--slot", sink.name, "--failover",
            ])
            #expect(refused.status == 4)
            #expect(refused.stderr.contains("failover slots need PostgreSQL 17 or later"), "\(refused.stderr)")
            #expect(
                try sink.scalar("SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", [sink.name]) == "0"
            )
            return
        }
        let servers = try ThrowawayServers()
        defer { servers.stopAll() }
        let ports = try Self.freePorts(4)
        var current = try servers.start(port: ports[0])
        var currentPort = ports[0]
        try Self.prepare(primary: ThrowawayServers.connectionString(port: ports[0]), sink: sink, failover: true)
        let everyHost = Self.multiHost(ports)
        let run = ["run", "--slot", sink.name, "--window", "2s", "--grace", "1s", "--checkpoint-every", "200ms"]
        let environment = ["DAYBOOK_DATABASE": everyHost, "DAYBOOK_SINK": sink.connectionString]
        let service = try DaybookProcess(run, environment: environment)
        defer { service.stop() }
        var earlierCheckpoint: String?
        let load = WriteLoad(everyHost)
        defer { load.stop() }
        let started = ContinuousClock.now
        func mark(_ what: String) { print("failover: \(what) after \(ContinuousClock.now - started)") }
        for round in 1...3 {
            let standby = try servers.standby(of: current, port: ports[round], synchronizingSlots: true)
            mark("round \(round): standby made")
            try Self.synchronizeStandbys(primary: ThrowawayServers.connectionString(port: currentPort))
            let standbyConnection = try PostgresConnection(
                ConnectionString(ThrowawayServers.connectionString(port: ports[round]))
            )
            let primaryConnection = try PostgresConnection(
                ConnectionString(ThrowawayServers.connectionString(port: currentPort))
            )
            try waitUntil(
                "round \(round): the standby holds a synchronized copy of the slot",
                timeout: .seconds(120),
                log: service
            ) {
                // A synchronized slot is kept only once the primary's slot has moved past where
                // the copy began, which it does at records of running transactions: ask for
                // them, rather than wait for the primary's own every 15 seconds.
                _ = try? primaryConnection.simpleQuery("SELECT pg_log_standby_snapshot()")
                return try standbyConnection.query(
                    "SELECT synced AND NOT temporary FROM pg_replication_slots WHERE slot_name = $1",
                    [sink.name]
                ).scalar == "t"
            }
            mark("round \(round): slot synchronized")
            Thread.sleep(forTimeInterval: 2)  // under load
            try servers.crash(current)
            try servers.promote(standby)
            // The promoted standby inherited no synchronized_standby_slots; its own standby comes next round.
            current = standby
            currentPort = ports[round]
            Thread.sleep(forTimeInterval: 1)
            if round == 1 {
                earlierCheckpoint = try sink.scalar(
                    "SELECT lsn::text FROM daybook.checkpoint WHERE slot_name = $1",
                    [sink.name]
                )
            }
        }
        Thread.sleep(forTimeInterval: 2)
        load.stop()
        mark("load stopped")
        let primary = try PostgresConnection(ConnectionString(ThrowawayServers.connectionString(port: currentPort)))
        try waitUntil(
            "every window closes by heartbeats after the last promotion",
            timeout: .seconds(120),
            log: service
        ) {
            _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: ["DAYBOOK_DATABASE": everyHost])
            return try IndependentCount.unclosedWindows(source: primary, sink: sink.connection, windowSeconds: 2) == 0
        }
        mark("every window closed")
        #expect(try IndependentCount.changeCount(primary) > 100)
        #expect(try IndependentCount.tableMismatches(source: primary, sink: sink.connection, windowSeconds: 2) == [])
        #expect(try IndependentCount.keyMismatches(source: primary, sink: sink.connection, windowSeconds: 2) == [])
        #expect(
            service.stderr.components(separatedBy: "resuming from checkpoint").count - 1 >= 4,
            "one session per primary"
        )
        // After the failovers of the source, a sink that lost its commits since round 1 (its
        // checkpoint set back there, as a restore would) is found out as well.
        #expect(service.stop() == 0)
        try sink.execute("UPDATE daybook.checkpoint SET lsn = '\(try #require(earlierCheckpoint))'")
        let restored = try DaybookProcess.run(run + ["--until-caught-up"], environment: environment)
        #expect(restored.status == 4, "\(restored.stderr)")
        #expect(restored.stderr.contains("the sink lost commits"), "\(restored.stderr)")
    }

    /// A slot that is not a failover slot (every slot before PostgreSQL 17) is gone after a
    /// promotion: Daybook says so in one line and stops, and the sink keeps what it had.
    @Test func withoutAFailoverSlotAPromotionStopsWithTheReason() throws {
        let sink = try TestDatabase("nofailover")
        let servers = try ThrowawayServers()
        defer { servers.stopAll() }
        let ports = try Self.freePorts(2)
        let primaryDirectory = try servers.start(port: ports[0])
        try Self.prepare(primary: ThrowawayServers.connectionString(port: ports[0]), sink: sink, failover: false)
        let standby = try servers.standby(of: primaryDirectory, port: ports[1])
        let service = try DaybookProcess(
            ["run", "--slot", sink.name, "--window", "2s", "--grace", "1s", "--checkpoint-every", "200ms"],
            environment: ["DAYBOOK_DATABASE": Self.multiHost(ports), "DAYBOOK_SINK": sink.connectionString]
        )
        defer { service.stop() }
        let source = try PostgresConnection(ConnectionString(ThrowawayServers.connectionString(port: ports[0])))
        try source.simpleQuery("INSERT INTO app.accounts SELECT g, g FROM generate_series(1, 100) g")
        try waitUntil("the inserts are checkpointed", log: service) {
            try sink.scalar("SELECT coalesce(sum(inserts), 0) FROM daybook.table_windows") == "100"
        }
        let checkpoint = try sink.scalar("SELECT lsn::text FROM daybook.checkpoint WHERE slot_name = $1", [sink.name])
        try servers.crash(primaryDirectory)
        try servers.promote(standby)
        #expect(service.wait() == 4)
        #expect(service.stderr.contains("was not a failover slot"), "\(service.stderr.suffix(2000))")
        #expect(
            try sink.scalar("SELECT lsn::text FROM daybook.checkpoint WHERE slot_name = $1", [sink.name]) == checkpoint
        )
    }
}
