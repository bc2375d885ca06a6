import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// A fresh database on the throwaway server that `scripts/test` starts, one per test, with
/// its own slot and publication, dropped again at the end.
final class TestDatabase {
    let name: String
    let connectionString: String
    let admin: PostgresConnection
    let connection: PostgresConnection

    /// The server's connection string, from `scripts/test`. Tests fail (never skip) without it.
    static func serverConnectionString() throws -> String {
        guard let value = ProcessInfo.processInfo.environment["DAYBOOK_TEST_DATABASE"], !value.isEmpty else {
            Issue.record("DAYBOOK_TEST_DATABASE is not set: run the tests with scripts/test, which starts PostgreSQL")
            throw TestSetupError.noServer
        }
        return value
    }

    /// - Parameter server: another server's connection string (default: DAYBOOK_TEST_DATABASE).
    init(_ label: String, server: String? = nil) throws {
        let server = try server ?? Self.serverConnectionString()
        admin = try PostgresConnection(ConnectionString(server))
        name = "dbk_\(label)_\(UInt32.random(in: 0...UInt32.max))"
        try admin.simpleQuery("CREATE DATABASE \(name)")
        connectionString = server + " dbname=\(name)"
        connection = try PostgresConnection(ConnectionString(connectionString))
    }

    /// Statements for the administrator to run after the database is dropped (roles made for it).
    private var cleanups: [(PostgresConnection) throws -> Void] = []

    func onDrop(_ cleanup: @escaping (PostgresConnection) throws -> Void) { cleanups.append(cleanup) }

    deinit {
        defer { for cleanup in cleanups { _ = try? cleanup(admin) } }
        _ = try? admin.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            [name]
        )
        _ = try? admin.query(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1",
            [name]
        )
        _ = try? admin.simpleQuery("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// Runs SQL on a new connection (for a statement that must be its own session).
    func execute(_ sql: String) throws {
        try connection.simpleQuery(sql)
    }

    func scalar(_ sql: String, _ parameters: [String?] = []) throws -> String? {
        try connection.query(sql, parameters).scalar
    }
}

enum TestSetupError: Error {
    case noServer
    case timeout(String)
}

/// Polls `condition` until it holds or `timeout` passes.
func waitUntil(
    _ description: String,
    timeout: Duration = .seconds(60),
    every interval: Duration = .milliseconds(200),
    log process: DaybookProcess? = nil,
    _ condition: () throws -> Bool
) throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return }
        Thread.sleep(
            forTimeInterval: Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        )
    }
    if let process {
        Issue.record("timed out waiting until \(description); daybook's log:\n\(process.stderr.suffix(6000))")
    }
    throw TestSetupError.timeout(description)
}

extension TestDatabase {
    /// Writes heartbeats (as cron would) until every window holding audited changes is
    /// closed in Daybook, with 2-second windows. `service`'s log is shown on a time-out.
    func heartbeatUntilEveryWindowCloses(_ description: String, service: DaybookProcess) throws {
        let environment = ["DAYBOOK_DATABASE": connectionString]
        try waitUntil(description, log: service) {
            _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment)
            return try IndependentCount.unclosedWindows(connection, windowSeconds: 2) == 0
        }
    }
}
