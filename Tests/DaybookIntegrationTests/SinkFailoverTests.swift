import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// The sink on a primary with a physical standby, and Daybook given both through one multi-host
/// string (`target_session_attrs=read-write`). When the primary crashes and the standby is
/// promoted, a standby that missed the last commits Daybook was told of is found out at the
/// reconnect (exit 4, then `--accept-gap` goes on and marks the windows); a synchronous standby
/// loses nothing, under load and through a SIGKILL of Daybook. The servers are the test's own
/// (`throwaway-postgres`), the source a database on the main test server.
@Suite(.serialized)
struct SinkFailoverTests {
    private let arguments = [
        "--window", "2s", "--grace", "1s", "--checkpoint-every", "100ms", "--heartbeat-every", "300ms",
    ]

    /// Whether the window holding `time` and every window before it are closed in `sink`.
    static func windowsClosed(through time: String, in sink: PostgresConnection) throws -> Bool {
        try sink.query(
            """
            SELECT EXISTS (SELECT 1 FROM daybook.windows
                            WHERE window_start <= $1::timestamptz AND window_end > $1::timestamptz AND status = 'closed')
               AND NOT EXISTS (SELECT 1 FROM daybook.windows WHERE window_start <= $1::timestamptz AND status <> 'closed')
            """,
            [time]
        ).scalar == "t"
    }

    private static func inserts(_ sink: PostgresConnection) throws -> Int {
        try sink.query("SELECT coalesce(sum(inserts), 0) FROM daybook.table_windows WHERE table_name = 'app.accounts'")
            .scalar.flatMap { Int($0) } ?? -1
    }

    /// An asynchronous standby that was down while the primary took Daybook's last commits:
    /// once promoted, it is behind what the slot confirmed. The running Daybook reconnects to
    /// it, refuses with exit 4 and writes nothing; `--accept-gap` goes on, and outside the
    /// windows the gap may touch the results equal the independent count.
    @Test func anAsynchronousStandbyThatMissedCommitsIsFoundOutAtTheReconnect() throws {
        let source = try TestDatabase("sinkfail_async")
        let servers = try ThrowawayServers()
        defer { servers.stopAll() }
        let ports = try (0..<2).map { _ in try freePort() }
        let primary = try servers.start(port: ports[0])
        let standby = try servers.standby(of: primary, port: ports[1])
        let environment = ["DAYBOOK_DATABASE": source.connectionString, "DAYBOOK_SINK": FailoverTests.multiHost(ports)]
        try Workload.prepare(source: source.connection, environment: environment, slot: source.name)
        let run = ["run", "--slot", source.name] + arguments
        let service = try DaybookProcess(run, environment: environment)
        defer { _ = service.stop() }
        try source.execute("INSERT INTO app.accounts SELECT g, 0 FROM generate_series(1, 100) g")
        let onStandby = try PostgresConnection(ConnectionString(ThrowawayServers.connectionString(port: ports[1])))
        try waitUntil("the first 100 inserts are on the sink's standby", log: service) {
            try Self.inserts(onStandby) == 100
        }

        // The standby goes down; the primary takes 100 more, and the slot is confirmed past them.
        try servers.crash(standby)
        try source.execute("INSERT INTO app.accounts SELECT g, 0 FROM generate_series(101, 200) g")
        let written = try #require(try source.scalar("SELECT pg_current_wal_insert_lsn()::text"))
        let onPrimary = try PostgresConnection(ConnectionString(ThrowawayServers.connectionString(port: ports[0])))
        try waitUntil("the next 100 are in the sink and confirmed to the slot", log: service) {
            try Self.inserts(onPrimary) == 200
                && source.scalar(
                    "SELECT confirmed_flush_lsn >= $1::pg_lsn FROM pg_replication_slots WHERE slot_name = $2",
                    [written, source.name]
                )
                    == "t"
        }
        let confirmedBeforeFailover = try #require(
            try source.scalar(
                "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
                [source.name]
            )
        )
        try servers.crash(primary)
        try servers.resume(standby)
        try servers.promote(standby)

        // The running Daybook reconnects to the promoted standby and refuses.
        #expect(service.wait() == 4, "\(service.stderr.suffix(2000))")
        #expect(service.stderr.contains("the sink lost commits"), "\(service.stderr.suffix(2000))")
        let promoted = try PostgresConnection(ConnectionString(ThrowawayServers.connectionString(port: ports[1])))
        let sinkLSN = try #require(try promoted.query("SELECT lsn::text FROM daybook.checkpoint").scalar)
        #expect(try Self.inserts(promoted) == 100, "the promoted standby lacks the last 100, and nothing was written")
        // The slot may have moved on after `confirmedBeforeFailover` was read (a heartbeat the
        // primary committed before its crash), never back; the gap must end exactly where it is.
        let confirmedAtRefusal = try #require(
            try source.scalar(
                "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
                [source.name]
            )
        )
        #expect(
            try source.scalar("SELECT $1::pg_lsn >= $2::pg_lsn", [confirmedAtRefusal, confirmedBeforeFailover]) == "t"
        )

        // Going on knowingly: the gap is recorded, later changes are exact.
        let accepting = try DaybookProcess(run + ["--accept-gap"], environment: environment)
        defer { _ = accepting.stop() }
        try waitUntil("the gap is bounded by the first commit after it", log: accepting) {
            try promoted.query("SELECT refined FROM daybook.gaps").scalar == "t"
        }
        let gap = try #require(
            try promoted.query("SELECT from_lsn::text, until_time::text, to_lsn::text FROM daybook.gaps").rows.first
        )
        #expect(gap[0] == sinkLSN)
        #expect(gap[2] == confirmedAtRefusal, "the gap ends where the slot stood when the sink was found out")
        try waitUntil("a window boundary passes the gap", timeout: .seconds(10)) {
            try source.scalar("SELECT now() >= $1::timestamptz + interval '2.2 seconds'", [gap[1]]) == "t"
        }
        try source.execute("INSERT INTO app.accounts SELECT g, 0 FROM generate_series(201, 300) g")
        let lastCommit = try #require(
            try source.scalar("SELECT max(pg_xact_commit_timestamp(xmin))::text FROM app.accounts")
        )
        try waitUntil("every window after the gap closes", log: accepting) {
            try Self.windowsClosed(through: lastCommit, in: promoted)
        }
        let touched = try IndependentCount.windowsTouchedByGaps(promoted, windowSeconds: 2)
        let outside = try IndependentCount.tableMismatches(
            source: source.connection,
            sink: promoted,
            windowSeconds: 2,
            excluding: touched
        )
        #expect(outside == [], "touched: \(touched.sorted())")
        #expect(accepting.stop() == 0)
    }

    /// A synchronous standby (`synchronous_standby_names`, `synchronous_commit = on`) has every
    /// commit the primary acknowledged. Under a write load, with Daybook killed with SIGKILL
    /// and started again, then the primary crashed and the standby promoted: Daybook follows
    /// through the multi-host string, finds no gap, and every window equals the independent count.
    @Test func aSynchronousStandbyLosesNothingUnderLoadAndASIGKILL() throws {
        let source = try TestDatabase("sinkfail_sync")
        let servers = try ThrowawayServers()
        defer { servers.stopAll() }
        let ports = try (0..<2).map { _ in try freePort() }
        let primary = try servers.start(port: ports[0])
        let standby = try servers.standby(of: primary, port: ports[1])
        // Set after the standby was copied, so that the standby, once promoted, waits for no one.
        let onPrimary = try PostgresConnection(ConnectionString(ThrowawayServers.connectionString(port: ports[0])))
        try onPrimary.simpleQuery("ALTER SYSTEM SET synchronous_standby_names = '*'")
        try onPrimary.simpleQuery("SELECT pg_reload_conf()")
        try waitUntil("the standby is synchronous") {
            try onPrimary.query("SELECT sync_state FROM pg_stat_replication").scalar == "sync"
        }
        let environment = ["DAYBOOK_DATABASE": source.connectionString, "DAYBOOK_SINK": FailoverTests.multiHost(ports)]
        try Workload.prepare(source: source.connection, environment: environment, slot: source.name)
        let run = ["run", "--slot", source.name] + arguments
        let first = try DaybookProcess(run, environment: environment)
        defer { _ = first.stop() }
        let load = WriteLoad(source.connectionString)
        defer { load.stop() }
        try waitUntil("changes reach the sink", log: first) {
            try onPrimary.query("SELECT count(*) FROM daybook.table_windows").scalar != "0"
        }
        Thread.sleep(forTimeInterval: 1)
        first.killHard()
        let service = try DaybookProcess(run, environment: environment)
        defer { _ = service.stop() }
        Thread.sleep(forTimeInterval: 2)
        try servers.crash(primary)
        try servers.promote(standby)
        Thread.sleep(forTimeInterval: 2)
        load.stop()

        let promoted = try PostgresConnection(ConnectionString(ThrowawayServers.connectionString(port: ports[1])))
        try waitUntil("every window closes on the promoted sink", timeout: .seconds(120), log: service) {
            try IndependentCount.unclosedWindows(source: source.connection, sink: promoted, windowSeconds: 2) == 0
        }
        #expect(service.isRunning, "no gap: Daybook went on, \(service.stderr.suffix(2000))")
        #expect(!service.stderr.contains("lost commits"))
        #expect(try promoted.query("SELECT count(*) FROM daybook.gaps").scalar == "0")
        #expect(try IndependentCount.changeCount(source.connection) > 100)
        #expect(try IndependentCount.tableMismatches(source: source.connection, sink: promoted, windowSeconds: 2) == [])
        #expect(try IndependentCount.keyMismatches(source: source.connection, sink: promoted, windowSeconds: 2) == [])
        #expect(
            service.stderr.components(separatedBy: "resuming from checkpoint").count - 1 >= 2,
            "a session on each sink server"
        )
    }
}
