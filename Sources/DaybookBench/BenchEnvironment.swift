import DaybookTestSupport
import Foundation
import PostgresReplication

/// The servers a benchmark runs on: by default two throwaway PostgreSQL servers it starts
/// itself (source and sink) and removes at the end; existing servers only when asked to
/// explicitly, since the benchmark creates and drops databases and slots on them.
final class BenchEnvironment {
    /// Server connection strings without a database name.
    let sourceServer: String
    let sinkServer: String
    let slots: SlotRegistry
    private var clusters: [Cluster] = []
    private var databases: [(server: String, name: String)] = []
    /// Libpq options both clients use: loopback without TLS, as pg_recvlogical is measured.
    static let clientOptions = "sslmode=disable"

    /// The source server's clock, when the benchmark moves it (a throwaway source only).
    let sourceClock: SourceClock?

    init(
        script: String,
        workDirectory: String,
        source: String?,
        sink: String?,
        allowExisting: Bool,
        movableSourceClock: Bool = false
    ) throws {
        if source != nil || sink != nil {
            guard allowExisting else {
                throw BenchError(
                    "--source/--sink point at servers the benchmark did not create; it creates and drops databases, "
                        + "publications and replication slots there: add --allow-existing-servers to go ahead"
                )
            }
        }
        let settings = "max_wal_size = 8GB\ncheckpoint_timeout = 30min\nwal_sender_timeout = 0\nautovacuum = off"
        if movableSourceClock, source != nil {
            throw BenchError(
                "this benchmark moves the source server's clock (libfaketime): it needs a throwaway source, not --source"
            )
        }
        var started: [Cluster] = []
        func throwaway(_ name: String, environment: [String: String] = [:]) throws -> String {
            let cluster = try Cluster(
                name: name,
                script: script,
                workDirectory: workDirectory,
                extraConfiguration: settings,
                prefix: "daybook-bench",
                environment: environment
            )
            started.append(cluster)
            return cluster.connectionString
        }
        let clock = movableSourceClock ? SourceClock(file: "\(workDirectory)/daybook-bench-source-clock") : nil
        sourceClock = clock
        if let clock {
            try clock.set(offsetSeconds: 0)
            sourceServer = try throwaway(
                "source",
                environment: ["FAKETIME_FILE": clock.file, "FAKETIME_CACHE_SECONDS": "1"]
            )
        } else {
            sourceServer = try source ?? throwaway("source")
        }
        sinkServer = try sink ?? throwaway("sink")
        clusters = started
        slots = SlotRegistry()
    }

    /// A new database on the source server; returns its connection string.
    func createSourceDatabase(_ name: String) throws -> String {
        try createDatabase(name, on: sourceServer)
    }

    /// A new, migrated sink database (one per run, so every run starts from an empty sink).
    func createSinkDatabase(_ name: String, daybook: String) throws -> String {
        let connectionString = try createDatabase(name, on: sinkServer)
        let migrate = try MeasuredProcess.run(daybook, ["migrate", "--sink", connectionString])
        guard migrate.status == 0 else {
            throw BenchError("daybook migrate failed on the sink (exit \(migrate.status))")
        }
        return connectionString
    }

    func dropDatabase(_ name: String) {
        guard let index = databases.firstIndex(where: { $0.name == name }) else { return }
        let server = databases.remove(at: index).server
        _ = try? PostgresConnection(ConnectionString(server)).simpleQuery(
            "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"
        )
    }

    /// Drops every slot and database the benchmark created, then removes the throwaway servers.
    func tearDown() {
        slots.dropAll()
        for database in databases.reversed() { dropDatabase(database.name) }
        for cluster in clusters { cluster.remove() }
        clusters.removeAll()
    }

    private func createDatabase(_ name: String, on server: String) throws -> String {
        let admin = try PostgresConnection(ConnectionString(server + " " + Self.clientOptions))
        try admin.simpleQuery("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        try admin.simpleQuery("CREATE DATABASE \(name)")
        databases.append((server, name))
        return server + " dbname=\(name) " + Self.clientOptions
    }
}

/// The source server's clock offset (libfaketime rereads the file once its cached copy is more
/// than a second old, counted in whole seconds, so up to two seconds late):
/// moving it a day ahead makes the next commit close the day, as a real midnight would.
struct SourceClock {
    let file: String

    func set(offsetSeconds: Int) throws {
        try "+\(offsetSeconds)\n".write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o644)
    }

    /// Moves the clock and waits until the server's processes have read the new offset.
    func advance(toOffsetSeconds seconds: Int) throws {
        try set(offsetSeconds: seconds)
        Thread.sleep(forTimeInterval: 3)
    }
}

/// Every replication slot the benchmark creates, so that none outlives it: a forgotten slot
/// retains WAL forever. Dropped in ``dropAll()``, which the benchmark also runs on SIGINT
/// and SIGTERM.
final class SlotRegistry: @unchecked Sendable {
    // @unchecked: `slots` is guarded by `lock`; the signal handler and the benchmark thread
    // both drop slots.
    private let lock = NSLock()
    private var slots: [(name: String, connectionString: String)] = []

    func create(_ name: String, on connectionString: String, copying base: String? = nil) throws {
        let connection = try PostgresConnection(ConnectionString(connectionString))
        if let base {
            try connection.query("SELECT pg_copy_logical_replication_slot($1, $2)", [base, name])
        } else {
            try connection.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [name])
        }
        lock.withLock { slots.append((name, connectionString)) }
    }

    func drop(_ name: String) {
        let found = lock.withLock { () -> (name: String, connectionString: String)? in
            guard let index = slots.firstIndex(where: { $0.name == name }) else { return nil }
            return slots.remove(at: index)
        }
        guard let found else { return }
        Self.drop(found.name, on: found.connectionString)
    }

    func dropAll() {
        let all = lock.withLock { () -> [(name: String, connectionString: String)] in
            defer { slots.removeAll() }
            return slots
        }
        for slot in all { Self.drop(slot.name, on: slot.connectionString) }
    }

    private static func drop(_ name: String, on connectionString: String) {
        guard let connection = try? PostgresConnection(ConnectionString(connectionString)) else { return }
        // A walsender that is still shutting down holds the slot for a moment.
        for _ in 0..<50 {
            if (try? connection.query(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active",
                [name]
            )) != nil,
                (try? connection.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [name]).rows.isEmpty)
                    == true
            {
                return
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }
}
